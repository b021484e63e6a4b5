//! Closed leads whose outcome depends on known features, for tests and benchmarks.
//!
//! The truth is a logistic model: source, product, position, phone validity, log behaviour
//! counts and the first response time move the odds. Medium and campaign follow the source and
//! country follows the product, so a model that assumes independent fields counts the same
//! evidence several times.

use super::{sigmoid, Example, LeadFeatures};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const SOURCES: [(&str, &str, f64); 8] = [
    ("google", "cpc", 0.4),
    ("yandex", "cpc", 0.2),
    ("facebook", "social", -0.6),
    ("vk", "social", -0.4),
    ("partner", "referral", 0.9),
    ("direct", "(none)", 0.3),
    ("email", "newsletter", -0.1),
    ("expo", "offline", 1.1),
];
const PRODUCTS: [(&str, f64); 5] = [
    ("crm", 0.3),
    ("erp", 0.6),
    ("consulting", -0.2),
    ("support", -0.7),
    ("training", 0.0),
];
const COUNTRIES: [&str; 5] = ["RU", "KZ", "BY", "AM", "UZ"];
const POSITIONS: [(&str, f64); 4] = [
    ("director", 0.8),
    ("manager", 0.3),
    ("analyst", -0.2),
    ("", 0.0),
];

/// `n` closed leads from a fixed seed.
pub fn closed_leads(n: usize, seed: u64) -> Vec<Example> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| one(&mut rng)).collect()
}

fn one(rng: &mut impl Rng) -> Example {
    let (source, medium, s_eff) = SOURCES[rng.gen_range(0..SOURCES.len())];
    let campaign = format!("{source}-{}", rng.gen_range(0..3));
    let (product, p_eff) = PRODUCTS[rng.gen_range(0..PRODUCTS.len())];
    let country = if rng.gen_bool(0.7) {
        COUNTRIES[product.len() % COUNTRIES.len()]
    } else {
        COUNTRIES[rng.gen_range(0..COUNTRIES.len())]
    };
    let (position, pos_eff) = POSITIONS[rng.gen_range(0..POSITIONS.len())];
    let phone_valid = rng.gen_bool(0.85);
    let email_valid = rng.gen_bool(0.8);
    let touches = 1 + (rng.gen::<f64>().powi(3) * 8.0) as i64;
    let page_views = (rng.gen::<f64>().powi(2) * 30.0) as i64;
    let minutes = -(1.0 - rng.gen::<f64>()).ln() * 240.0;
    let z = -1.6
        + s_eff
        + p_eff
        + pos_eff
        + if phone_valid { 0.7 } else { -0.3 }
        + if email_valid { 0.2 } else { 0.0 }
        + 0.6 * (touches as f64).ln_1p()
        + 0.35 * (page_views as f64).ln_1p()
        - 0.3 * minutes.ln_1p()
        + 0.8;
    let won = rng.gen_bool(sigmoid(z));
    let mut fit = BTreeMap::new();
    if !position.is_empty() {
        fit.insert("position".to_string(), position.to_string());
    }
    fit.insert(
        "company".to_string(),
        if rng.gen_bool(0.6) { "yes" } else { "no" }.to_string(),
    );
    let mut behaviour = BTreeMap::new();
    behaviour.insert("touches".to_string(), touches);
    behaviour.insert("page_view".to_string(), page_views);
    Example {
        features: LeadFeatures {
            source: Some(source.to_string()),
            medium: Some(medium.to_string()),
            campaign: Some(campaign),
            form: Some(format!("{}", 1 + rng.gen_range(0..4))),
            product: Some(product.to_string()),
            country: Some(country.to_string()),
            phone_valid,
            email_valid,
            fit,
            behaviour,
            first_response_ms: Some((minutes * 60_000.0) as i64),
        },
        won,
    }
}
