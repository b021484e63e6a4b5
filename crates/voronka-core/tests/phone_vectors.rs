//! Differential test: our phone normalization against libphonenumber's answers.
//!
//! `shared/data/phones/vectors.csv` holds 2,050 inputs with the answer of libphonenumber 9.0.43
//! (`default_region,input,e164,valid,type`; type `UNPARSEABLE` where parsing failed). Every row
//! must agree on the E.164 form, validity and number type.

use voronka_core::intake::normalize::phone;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/phones/vectors.csv"
);

#[derive(Debug, serde::Deserialize)]
struct Row {
    default_region: String,
    input: String,
    e164: String,
    valid: String,
    #[serde(rename = "type")]
    kind: String,
}

#[test]
fn agrees_with_libphonenumber_on_every_vector() {
    let mut reader =
        csv::Reader::from_path(VECTORS).unwrap_or_else(|e| panic!("cannot open {VECTORS}: {e}"));
    let rows: Vec<Row> = reader
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("vectors.csv rows");
    assert!(!rows.is_empty(), "no vectors in {VECTORS}");

    let mut mismatches = Vec::new();
    let (mut e164_ok, mut valid_ok, mut type_ok) = (0usize, 0usize, 0usize);
    for row in &rows {
        let want_valid = match row.valid.as_str() {
            "True" => true,
            "False" => false,
            other => panic!("unexpected valid value {other:?}"),
        };
        let got = phone::parse_number(&row.input, &row.default_region);
        let (got_e164, got_valid, got_type) = match &got {
            Some(p) => (p.e164.as_str(), p.valid, p.kind.as_str()),
            None => ("", false, "UNPARSEABLE"),
        };
        // `parse` must tell the same story as `parse_number`.
        assert_eq!(
            phone::parse(&row.input, &row.default_region),
            got.as_ref().map(|p| (p.e164.clone(), p.valid)),
            "parse and parse_number disagree on {:?}",
            row.input
        );

        let e164_same = got_e164 == row.e164;
        let valid_same = got_valid == want_valid;
        let type_same = got_type == row.kind;
        e164_ok += usize::from(e164_same);
        valid_ok += usize::from(valid_same);
        type_ok += usize::from(type_same);
        if !(e164_same && valid_same && type_same) {
            mismatches.push(format!(
                "{},{:?}: want ({}, {}, {}) got ({}, {}, {})",
                row.default_region,
                row.input,
                row.e164,
                want_valid,
                row.kind,
                got_e164,
                got_valid,
                got_type
            ));
        }
    }

    let total = rows.len();
    println!(
        "phone vectors: {} of {total} agree fully; e164 {e164_ok}/{total}, valid {valid_ok}/{total}, type {type_ok}/{total}",
        total - mismatches.len()
    );
    if !mismatches.is_empty() {
        for m in &mismatches {
            println!("  {m}");
        }
        panic!(
            "{} of {total} phone vectors disagree with libphonenumber (listed above)",
            mismatches.len()
        );
    }
}
