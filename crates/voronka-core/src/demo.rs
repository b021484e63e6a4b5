//! Demo data: six months of realistic-looking requests for a small international sales team.
//!
//! Pure and deterministic: the same [`DemoConfig`] always gives the same leads, so a demo
//! database, a screenshot or a benchmark can be rebuilt exactly. The caller (the `demo`
//! command) feeds every [`DemoLead::submission`] through the intake pipeline in the order
//! given and then replays its [`DemoLead::steps`] as the salespeople's actions.
//!
//! The names, companies, phones and emails are made up; phones are real-looking mobile
//! numbers and emails use common public mail domains, so whatever runs the demo must never
//! call or mail them.

use crate::intake::Submission;
use crate::model::{Channel, Currency, Millis, Money, Role, Stage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use std::str::FromStr;

const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;

/// How far back the generated requests reach from [`DemoConfig::anchor`].
pub const SPAN_DAYS: i64 = 183;
/// The usual size of a demo database.
pub const DEFAULT_LEADS: usize = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    pub seed: u64,
    /// How many submissions to generate (repeats and junk included).
    pub leads: usize,
    /// "Now": the data spans the [`SPAN_DAYS`] before it.
    pub anchor: Millis,
}

impl DemoConfig {
    pub fn new(seed: u64, leads: usize, anchor: Millis) -> Self {
        DemoConfig {
            seed,
            leads,
            anchor,
        }
    }
}

/// A member of the demo sales team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    pub name: &'static str,
    pub email: String,
    /// As in [`Role::as_str`].
    pub role: &'static str,
    /// Languages (field "language") of the leads this salesperson handles; empty for the rest.
    pub languages: &'static [&'static str],
}

/// The sales team: an admin, a sales manager, a salesperson per market and a marketer.
pub fn team() -> Vec<DemoPerson> {
    let people: [(&str, &str, Role, &'static [&'static str]); 8] = [
        ("Алексей Воронин", "alexey.voronin", Role::Admin, &[]),
        ("Мария Соколова", "maria.sokolova", Role::SalesManager, &[]),
        ("Дмитрий Орлов", "dmitry.orlov", Role::Salesperson, &["ru"]),
        (
            "Оксана Мельник",
            "oksana.melnyk",
            Role::Salesperson,
            &["uk"],
        ),
        ("Emma Wilson", "emma.wilson", Role::Salesperson, &["en"]),
        ("Sanne de Jong", "sanne.dejong", Role::Salesperson, &["nl"]),
        (
            "Camille Moreau",
            "camille.moreau",
            Role::Salesperson,
            &["fr"],
        ),
        ("Анна Белова", "anna.belova", Role::Marketer, &[]),
    ];
    people
        .into_iter()
        .map(|(name, local, role, languages)| DemoPerson {
            name,
            email: format!("{local}@example.com"),
            role: role.as_str(),
            languages,
        })
        .collect()
}

/// Why customers say no, as a salesperson records it.
pub const REFUSAL_REASONS: &[&str] = &[
    "Too expensive",
    "Chose a competitor",
    "No budget now",
    "Not the decision maker",
    "Just browsing",
    "Bad timing",
    "No response",
];

/// Why a request is not a lead at all.
pub const JUNK_REASONS: &[&str] = &[
    "Test submission",
    "Spam",
    "Wrong number",
    "Fake contact details",
    "Duplicate",
    "Competitor research",
];

/// One generated request and what the team did with it afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLead {
    pub submission: Submission,
    /// In time order; every `at` is after `submission.received_at` and not after the anchor.
    pub steps: Vec<DemoStep>,
    /// For a repeat (the same person asking again about the same product while their lead is
    /// still open): the index of the earlier lead in the generated list. Dedup attaches a
    /// repeat as a touch to that lead, so a repeat has no steps of its own.
    pub repeat_of: Option<usize>,
}

impl DemoLead {
    /// The stage the lead is in after all its steps.
    pub fn final_stage(&self) -> Stage {
        self.steps.iter().fold(Stage::New, |cur, s| match s {
            DemoStep::Stage { to, .. } => *to,
            DemoStep::Refuse { .. } => Stage::Refused,
            DemoStep::Junk { .. } => Stage::Junk,
            DemoStep::Convert { .. } => Stage::Converted,
            DemoStep::Note { .. } | DemoStep::Call { .. } => cur,
        })
    }
}

/// An action on a lead after it came in.
#[derive(Debug, Clone, PartialEq)]
pub enum DemoStep {
    /// A manual move between open stages.
    Stage {
        to: Stage,
        at: Millis,
    },
    Refuse {
        reason: String,
        comment: Option<String>,
        /// May lie after the anchor (still frozen) or before it (the freeze has ended).
        freeze_until: Option<Millis>,
        at: Millis,
    },
    Junk {
        reason: String,
        at: Millis,
    },
    /// Conversion: creates the customer and the deal; the lead becomes converted.
    Convert {
        amount: Money,
        title: String,
        at: Millis,
    },
    Note {
        body: String,
        at: Millis,
    },
    /// The owner's first call: the lead's first response.
    Call {
        at: Millis,
    },
}

impl DemoStep {
    pub fn at(&self) -> Millis {
        match self {
            DemoStep::Stage { at, .. }
            | DemoStep::Refuse { at, .. }
            | DemoStep::Junk { at, .. }
            | DemoStep::Convert { at, .. }
            | DemoStep::Note { at, .. }
            | DemoStep::Call { at } => *at,
        }
    }
}

/// Generates `cfg.leads` submissions sorted by `received_at`, with their later history.
pub fn generate(cfg: &DemoConfig) -> Vec<DemoLead> {
    Gen::new(cfg).run()
}

/// Submissions every channel also brings that leave no way back: a first name and a question,
/// a mistyped address. The intake keeps them as interests. About one per 25 leads, spread over
/// the demo's months and channels.
pub fn demo_interests(cfg: &DemoConfig) -> Vec<Submission> {
    const CHANNELS: [(Option<&str>, Option<&str>); 7] = [
        (Some("google"), Some("cpc")),
        (Some("yandex"), Some("cpc")),
        (Some("yandex"), Some("cpc")),
        (Some("facebook"), Some("social")),
        (Some("vk"), Some("social")),
        (Some("newsletter"), Some("email")),
        (None, None),
    ];
    const NAMES: [&str; 8] = [
        "Ирина",
        "Сергей",
        "Олена",
        "Tom",
        "Anna",
        "Пётр",
        "Marie",
        "Дмитрий",
    ];
    const MESSAGES: [&str; 4] = [
        "Сколько стоит доставка?",
        "Есть ли скидки?",
        "Do you ship abroad?",
        "Перезвоните мне",
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x1e7e_4e57);
    let start = cfg.anchor - SPAN_DAYS * DAY;
    (0..cfg.leads / 25)
        .map(|_| {
            let at = rng.gen_range(start..cfg.anchor);
            let mut sub = Submission::new(Channel::WebForm, at);
            let (source, medium) = CHANNELS[rng.gen_range(0..CHANNELS.len())];
            if let (Some(s), Some(m)) = (source, medium) {
                sub = sub.with("utm_source", s).with("utm_medium", m);
            }
            let name = NAMES[rng.gen_range(0..NAMES.len())];
            sub = sub.with("name", name);
            match rng.gen_range(0..3) {
                // An address cut short.
                0 => sub.with("email", format!("{}@", name.to_lowercase())),
                // No contact at all, only the question.
                1 => sub.with("message", MESSAGES[rng.gen_range(0..MESSAGES.len())]),
                _ => sub.with("email", "почта"),
            }
        })
        .collect()
}

/// What one paid channel cost in one market for one calendar month (or the part of it the demo
/// spans).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpend {
    pub source: String,
    pub medium: String,
    /// The first and the last day paid for.
    pub first_day: chrono::NaiveDate,
    pub last_day: chrono::NaiveDate,
    pub amount: Money,
}

/// A paid submission's price in roubles, by source and medium (then by medium alone).
fn cost_per_submission(source: &str, medium: &str) -> Option<i64> {
    Some(match (source, medium) {
        ("google", "cpc") => 1_900,
        ("yandex", "cpc") => 1_400,
        ("linkedin", "social") => 2_600,
        ("vk", "social") => 700,
        (_, "cpc") => 1_600,
        (_, "social") => 1_000,
        (_, "email") => 150,
        (_, "offline") => 3_200,
        (_, "partner") => 1_200,
        _ => return None,
    })
}

/// The demo's marketing spend: for each paid source and medium (advertising, social, the
/// newsletter, the expo, the partners) and month, a budget in roubles (the company pays for
/// every market from home) in proportion to the submissions it brought, give or take a fifth.
/// Organic and direct traffic cost nothing.
pub fn demo_spend(cfg: &DemoConfig, leads: &[DemoLead]) -> Vec<DemoSpend> {
    use chrono::{DateTime, Datelike, NaiveDate};
    use std::collections::BTreeMap;
    let day_of = |at: Millis| {
        DateTime::from_timestamp_millis(at)
            .map(|t| t.date_naive())
            .unwrap_or_default()
    };
    // (source, medium, year, month) → submissions.
    let mut count: BTreeMap<(String, String, i32, u32), i64> = BTreeMap::new();
    for l in leads {
        let sub = &l.submission;
        let (Some(source), Some(medium)) = (sub.field("utm_source"), sub.field("utm_medium"))
        else {
            continue;
        };
        if cost_per_submission(source, medium).is_none() {
            continue;
        }
        let d = day_of(sub.received_at);
        *count
            .entry((source.into(), medium.into(), d.year(), d.month()))
            .or_default() += 1;
    }
    let first = day_of(cfg.anchor - SPAN_DAYS * DAY);
    let last = day_of(cfg.anchor);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed_5bed);
    let mut out = Vec::new();
    let Ok(rub) = Currency::parse("RUB") else {
        return Vec::new();
    };
    for ((source, medium, year, month), n) in count {
        let Some(start) = NaiveDate::from_ymd_opt(year, month, 1) else {
            continue;
        };
        let end = start
            .checked_add_months(chrono::Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(start);
        let price = cost_per_submission(&source, &medium).unwrap_or(0);
        let roubles = (n * price * rng.gen_range(80..=120) / 100).max(1);
        out.push(DemoSpend {
            source,
            medium,
            first_day: start.max(first),
            last_day: end.min(last),
            amount: Money::new(roubles * 100, rub),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Markets
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Ru,
    Ua,
    Gb,
    Us,
    Nl,
    Fr,
}

const LOCS: &[(Loc, u32)] = &[
    (Loc::Ru, 38),
    (Loc::Ua, 14),
    (Loc::Gb, 10),
    (Loc::Us, 10),
    (Loc::Nl, 13),
    (Loc::Fr, 15),
];

impl Loc {
    fn country(self) -> &'static str {
        match self {
            Loc::Ru => "RU",
            Loc::Ua => "UA",
            Loc::Gb => "GB",
            Loc::Us => "US",
            Loc::Nl => "NL",
            Loc::Fr => "FR",
        }
    }
    fn language(self) -> &'static str {
        match self {
            Loc::Ru => "ru",
            Loc::Ua => "uk",
            Loc::Gb | Loc::Us => "en",
            Loc::Nl => "nl",
            Loc::Fr => "fr",
        }
    }
    fn currency(self) -> &'static str {
        match self {
            Loc::Ru => "RUB",
            Loc::Ua => "UAH",
            Loc::Gb => "GBP",
            Loc::Us => "USD",
            Loc::Nl | Loc::Fr => "EUR",
        }
    }
    /// Rate against the euro and the step prices are rounded to.
    fn price_rate(self) -> (f64, f64) {
        match self {
            Loc::Ru => (100.0, 500.0),
            Loc::Ua => (45.0, 100.0),
            Loc::Gb => (0.85, 10.0),
            Loc::Us => (1.08, 10.0),
            Loc::Nl | Loc::Fr => (1.0, 10.0),
        }
    }
    /// Standard-time offset from UTC, for working hours (daylight saving is ignored).
    fn utc_offset(self) -> Millis {
        HOUR * match self {
            Loc::Ru => 3,
            Loc::Ua => 2,
            Loc::Gb => 0,
            Loc::Us => -5,
            Loc::Nl | Loc::Fr => 1,
        }
    }
    fn cyrillic(self) -> bool {
        matches!(self, Loc::Ru | Loc::Ua)
    }
    fn text(self) -> &'static Texts {
        match self {
            Loc::Ru => &RU_TEXT,
            Loc::Ua => &UK_TEXT,
            Loc::Gb | Loc::Us => &EN_TEXT,
            Loc::Nl => &NL_TEXT,
            Loc::Fr => &FR_TEXT,
        }
    }
    fn names(self) -> &'static Names {
        match self {
            Loc::Ru => &RU_NAMES,
            Loc::Ua => &UA_NAMES,
            Loc::Gb => &GB_NAMES,
            Loc::Us => &US_NAMES,
            Loc::Nl => &NL_NAMES,
            Loc::Fr => &FR_NAMES,
        }
    }
}

struct Names {
    male: &'static [&'static str],
    female: &'static [&'static str],
    /// Surnames in their masculine form; Slavic feminine forms are derived.
    last: &'static [&'static str],
    mail_domains: &'static [&'static str],
    /// (name, domain); an empty domain means the contact writes from a personal mailbox.
    companies: &'static [(&'static str, &'static str)],
    positions: &'static [&'static str],
}

static RU_NAMES: Names = Names {
    male: &[
        "Александр",
        "Дмитрий",
        "Максим",
        "Сергей",
        "Андрей",
        "Алексей",
        "Артём",
        "Илья",
        "Кирилл",
        "Михаил",
        "Никита",
        "Иван",
        "Евгений",
        "Павел",
        "Роман",
        "Владимир",
        "Николай",
        "Олег",
        "Игорь",
        "Денис",
        "Антон",
        "Виктор",
        "Юрий",
        "Константин",
    ],
    female: &[
        "Анна",
        "Мария",
        "Елена",
        "Ольга",
        "Наталья",
        "Екатерина",
        "Татьяна",
        "Ирина",
        "Светлана",
        "Юлия",
        "Анастасия",
        "Дарья",
        "Ксения",
        "Марина",
        "Виктория",
        "Полина",
        "Алина",
        "Софья",
        "Вера",
        "Людмила",
    ],
    last: &[
        "Иванов",
        "Смирнов",
        "Кузнецов",
        "Попов",
        "Васильев",
        "Петров",
        "Соколов",
        "Михайлов",
        "Новиков",
        "Фёдоров",
        "Морозов",
        "Волков",
        "Алексеев",
        "Лебедев",
        "Семёнов",
        "Егоров",
        "Павлов",
        "Козлов",
        "Степанов",
        "Николаев",
        "Орлов",
        "Андреев",
        "Макаров",
        "Никитин",
        "Захаров",
        "Зайцев",
        "Соловьёв",
        "Борисов",
        "Яковлев",
        "Григорьев",
        "Романов",
        "Воробьёв",
        "Сергеев",
        "Кузьмин",
        "Фролов",
        "Александров",
        "Дмитриев",
        "Королёв",
        "Гусев",
        "Киселёв",
        "Ильин",
        "Максимов",
        "Поляков",
        "Сорокин",
        "Виноградов",
        "Ковалёв",
        "Белов",
        "Медведев",
        "Антонов",
        "Тарасов",
        "Жуков",
        "Баранов",
        "Филиппов",
        "Комаров",
        "Давыдов",
        "Беляев",
        "Герасимов",
        "Богданов",
        "Осипов",
        "Сидоров",
        "Матвеев",
        "Титов",
        "Марков",
        "Миронов",
        "Крылов",
        "Куликов",
        "Карпов",
        "Власов",
        "Мельников",
        "Денисов",
        "Гаврилов",
        "Тихонов",
        "Казаков",
        "Данилов",
        "Фомин",
        "Чернов",
        "Абрамов",
        "Мартынов",
        "Щербаков",
        "Назаров",
        "Калинин",
        "Быков",
        "Маслов",
        "Лазарев",
        "Воронин",
        "Климов",
        "Голубев",
        "Кудрявцев",
        "Прохоров",
        "Наумов",
        "Соболев",
        "Ермаков",
        "Гончаров",
        "Котов",
        "Громов",
        "Панов",
        "Румянцев",
        "Галкин",
        "Скворцов",
        "Нестеров",
        "Островский",
        "Покровский",
        "Вишневский",
        "Шевцов",
    ],
    mail_domains: &[
        "mail.ru",
        "mail.ru",
        "yandex.ru",
        "yandex.ru",
        "gmail.com",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "rambler.ru",
        "ya.ru",
    ],
    companies: &[
        ("ООО «Вектор»", "vektor-group.ru"),
        ("Стройинвест", "stroyinvest-msk.ru"),
        ("ГК «Техносфера»", "tekhnosfera-gk.ru"),
        ("Альфа Логистик", "alfa-logistic.ru"),
        ("ООО «Северный ветер»", "sevveter.ru"),
        ("Медцентр «Здоровье+»", "zdorovie-plus-med.ru"),
        ("ИП Смирнова", ""),
        ("АгроТрейд", "agrotrade-ug.ru"),
        ("Урал Металл Сервис", "uralmetallservis.ru"),
        ("Студия «Пиксель»", "pixel-studio-spb.ru"),
        ("ТД «Восток»", "td-vostok.ru"),
        ("Интерьер Плюс", "interior-plus.ru"),
        ("Автоцентр «Магистраль»", "magistral-auto.ru"),
        ("Клиника «Дента Люкс»", "dentalux-clinic.ru"),
    ],
    positions: &[
        "Генеральный директор",
        "Коммерческий директор",
        "Руководитель отдела продаж",
        "Маркетолог",
        "Менеджер по закупкам",
        "Собственник",
        "IT-директор",
    ],
};

static UA_NAMES: Names = Names {
    male: &[
        "Олександр",
        "Андрій",
        "Дмитро",
        "Сергій",
        "Максим",
        "Олег",
        "Юрій",
        "Віталій",
        "Тарас",
        "Богдан",
        "Іван",
        "Микола",
        "Василь",
        "Ярослав",
        "Роман",
        "Денис",
        "Володимир",
        "Остап",
        "Артем",
        "Євген",
    ],
    female: &[
        "Олена",
        "Оксана",
        "Наталія",
        "Ірина",
        "Тетяна",
        "Юлія",
        "Світлана",
        "Катерина",
        "Марія",
        "Анна",
        "Вікторія",
        "Ольга",
        "Галина",
        "Христина",
        "Софія",
        "Дарина",
        "Мар'яна",
        "Людмила",
        "Леся",
        "Ярослава",
    ],
    last: &[
        "Шевченко",
        "Коваленко",
        "Бондаренко",
        "Ткаченко",
        "Кравченко",
        "Олійник",
        "Шевчук",
        "Коваль",
        "Поліщук",
        "Бойко",
        "Ткачук",
        "Мельник",
        "Лисенко",
        "Руденко",
        "Савченко",
        "Петренко",
        "Марченко",
        "Мороз",
        "Клименко",
        "Павленко",
        "Гончаренко",
        "Кузьменко",
        "Левченко",
        "Харченко",
        "Литвиненко",
        "Сидоренко",
        "Карпенко",
        "Швець",
        "Гнатюк",
        "Ковальчук",
        "Романенко",
        "Остапчук",
        "Якименко",
        "Мазур",
        "Павлюк",
        "Кушнір",
        "Грищенко",
        "Головко",
        "Ковальський",
        "Вишневський",
        "Яворський",
        "Федорук",
    ],
    mail_domains: &[
        "gmail.com",
        "gmail.com",
        "gmail.com",
        "ukr.net",
        "ukr.net",
        "i.ua",
        "meta.ua",
    ],
    companies: &[
        ("ТОВ «Агроспектр»", "agrospektr.com.ua"),
        ("Київ Логістик", "kyivlogistic.com.ua"),
        ("ФОП Коваленко", ""),
        ("Смарт Девелопмент", "smartdevelopment.ua"),
        ("Дніпро Трейд", "dniprotrade.ua"),
        ("Львівська кавова мануфактура", "lvivcoffee-manufaktura.ua"),
        ("ТОВ «Будсервіс»", "budservis.com.ua"),
        ("Одеса Марин Сервіс", "odesa-marine.ua"),
        ("Клініка «Медея»", "medeya-clinic.ua"),
        ("Харків Пром", "kharkivprom.ua"),
    ],
    positions: &[
        "Директор",
        "Комерційний директор",
        "Керівник відділу продажів",
        "Маркетолог",
        "Власник",
        "Менеджер із закупівель",
    ],
};

const EN_MALE: &[&str] = &[
    "James",
    "John",
    "Robert",
    "Michael",
    "William",
    "David",
    "Richard",
    "Joseph",
    "Thomas",
    "Daniel",
    "Matthew",
    "Andrew",
    "Oliver",
    "Harry",
    "George",
    "Jack",
    "Samuel",
    "Ethan",
    "Ryan",
    "Christopher",
];
const EN_FEMALE: &[&str] = &[
    "Emma",
    "Olivia",
    "Sophie",
    "Charlotte",
    "Emily",
    "Jessica",
    "Sarah",
    "Hannah",
    "Amelia",
    "Grace",
    "Lucy",
    "Megan",
    "Jennifer",
    "Ashley",
    "Elizabeth",
    "Rachel",
    "Laura",
    "Chloe",
    "Madison",
    "Abigail",
];

static GB_NAMES: Names = Names {
    male: EN_MALE,
    female: EN_FEMALE,
    last: &[
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Johnson",
        "Davies",
        "Robinson",
        "Wright",
        "Thompson",
        "Evans",
        "Walker",
        "White",
        "Roberts",
        "Green",
        "Hall",
        "Wood",
        "Jackson",
        "Clarke",
        "Hughes",
        "Edwards",
        "Turner",
        "Harris",
        "Cooper",
        "Hill",
        "Ward",
        "Morris",
        "Moore",
        "King",
        "Baker",
        "Harrison",
        "Morgan",
        "Allen",
        "Scott",
        "Phillips",
        "Watson",
        "Parker",
        "Price",
        "Bennett",
        "Young",
        "Griffiths",
        "Mitchell",
        "Kelly",
        "O'Brien",
        "Murphy",
        "Fletcher",
        "Marsh",
    ],
    mail_domains: &[
        "gmail.com",
        "gmail.com",
        "outlook.com",
        "hotmail.co.uk",
        "yahoo.co.uk",
        "btinternet.com",
        "icloud.com",
    ],
    companies: &[
        ("Northbridge Consulting Ltd", "northbridge-consulting.co.uk"),
        ("Harbour Logistics", "harbourlogistics.co.uk"),
        ("Greenfield Estates", "greenfield-estates.co.uk"),
        ("Brightside Dental", "brightsidedental.co.uk"),
        ("Kestrel Software Ltd", "kestrelsoftware.co.uk"),
        ("Thames Valley Builders", "tvbuilders.co.uk"),
        ("Oakwood Interiors", "oakwood-interiors.co.uk"),
        ("Penrose & Hart Solicitors", "penrosehart.co.uk"),
    ],
    positions: &[
        "Managing Director",
        "Head of Sales",
        "Marketing Manager",
        "Operations Director",
        "Founder",
        "Office Manager",
    ],
};

static US_NAMES: Names = Names {
    male: EN_MALE,
    female: EN_FEMALE,
    last: &[
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
        "Hernandez",
        "Lopez",
        "Gonzalez",
        "Wilson",
        "Anderson",
        "Thomas",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
        "Lee",
        "Perez",
        "Thompson",
        "White",
        "Harris",
        "Sanchez",
        "Clark",
        "Ramirez",
        "Lewis",
        "Robinson",
        "Walker",
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Torres",
        "Nguyen",
        "Hill",
        "Flores",
        "Green",
        "Adams",
        "Nelson",
        "Baker",
        "Hall",
        "Rivera",
        "Campbell",
        "Mitchell",
        "Carter",
    ],
    mail_domains: &[
        "gmail.com",
        "gmail.com",
        "gmail.com",
        "yahoo.com",
        "outlook.com",
        "icloud.com",
        "aol.com",
        "hotmail.com",
    ],
    companies: &[
        ("Summit Roofing LLC", "summitroofing-co.com"),
        ("Blue Ridge Analytics", "blueridge-analytics.com"),
        ("Pinecrest Realty", "pinecrest-realty.com"),
        ("Lakeside Dental Group", "lakesidedentalgroup.com"),
        ("Redwood Logistics Inc.", "redwood-logistics-inc.com"),
        ("Copperline Marketing", "copperline-marketing.com"),
        ("Hudson Home Services", "hudsonhomeservices.com"),
        ("Granite State Insurance", "granitestate-ins.com"),
    ],
    positions: &[
        "CEO",
        "VP of Sales",
        "Sales Director",
        "Marketing Manager",
        "Owner",
        "Operations Manager",
    ],
};

static NL_NAMES: Names = Names {
    male: &[
        "Daan", "Sem", "Lucas", "Levi", "Bram", "Thijs", "Jesse", "Ruben", "Lars", "Sven", "Niels",
        "Jeroen", "Pieter", "Jan", "Willem", "Bas", "Tim", "Maarten", "Joost", "Stijn",
    ],
    female: &[
        "Emma", "Julia", "Sophie", "Anna", "Lotte", "Sanne", "Fleur", "Lisa", "Eva", "Iris",
        "Anouk", "Femke", "Noor", "Esther", "Marieke", "Ilse", "Maud", "Saskia", "Inge", "Roos",
    ],
    last: &[
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "van Dijk",
        "Bakker",
        "Janssen",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "de Groot",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Leeuwen",
        "Dekker",
        "Brouwer",
        "de Wit",
        "Dijkstra",
        "Smits",
        "de Graaf",
        "van der Meer",
        "van der Linden",
        "Kok",
        "Jacobs",
        "de Haan",
        "Vermeulen",
        "van den Heuvel",
        "van der Veen",
        "van den Broek",
        "de Bruijn",
        "van der Heijden",
        "Schouten",
        "van Beek",
        "Willems",
        "van Vliet",
        "Hoekstra",
        "Maas",
        "Verhoeven",
        "Koster",
        "van Dam",
        "Prins",
        "Blom",
        "Huisman",
    ],
    mail_domains: &[
        "gmail.com",
        "gmail.com",
        "hotmail.nl",
        "outlook.com",
        "ziggo.nl",
        "kpnmail.nl",
        "live.nl",
        "xs4all.nl",
    ],
    companies: &[
        (
            "Van Dijk Installatietechniek B.V.",
            "vandijk-installatietechniek.nl",
        ),
        ("Bakker Logistiek", "bakker-logistiek.nl"),
        ("De Groene Tuin", "degroenetuin-hoveniers.nl"),
        ("Hollandse Bouw B.V.", "hollandsebouw-bv.nl"),
        ("Zuidas Advies", "zuidas-advies.nl"),
        ("Tandartspraktijk Centrum", "tandarts-centrum-utrecht.nl"),
        ("Fietsenwinkel De Spaak", "despaak-fietsen.nl"),
        ("Noordzee Vastgoed", "noordzee-vastgoed.nl"),
    ],
    positions: &[
        "Directeur",
        "Salesmanager",
        "Marketingmanager",
        "Eigenaar",
        "Office manager",
        "Inkoper",
    ],
};

static FR_NAMES: Names = Names {
    male: &[
        "Jean",
        "Pierre",
        "Michel",
        "Philippe",
        "Nicolas",
        "Thomas",
        "Julien",
        "Antoine",
        "Alexandre",
        "Hugo",
        "Louis",
        "Lucas",
        "Mathieu",
        "François",
        "Sébastien",
        "Olivier",
        "Laurent",
        "Guillaume",
        "Théo",
        "Romain",
    ],
    female: &[
        "Marie", "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Sarah", "Julie", "Claire",
        "Sophie", "Nathalie", "Isabelle", "Céline", "Aurélie", "Émilie", "Hélène", "Margaux",
        "Pauline", "Élodie",
    ],
    last: &[
        "Martin",
        "Bernard",
        "Dubois",
        "Thomas",
        "Robert",
        "Richard",
        "Petit",
        "Durand",
        "Leroy",
        "Moreau",
        "Simon",
        "Laurent",
        "Lefebvre",
        "Michel",
        "Garcia",
        "David",
        "Bertrand",
        "Roux",
        "Vincent",
        "Fournier",
        "Morel",
        "Girard",
        "André",
        "Lefèvre",
        "Mercier",
        "Dupont",
        "Lambert",
        "Bonnet",
        "François",
        "Legrand",
        "Garnier",
        "Faure",
        "Rousseau",
        "Blanc",
        "Guérin",
        "Muller",
        "Henry",
        "Roussel",
        "Perrin",
        "Morin",
        "Mathieu",
        "Clément",
        "Gauthier",
        "Dumont",
        "Fontaine",
        "Chevalier",
        "Robin",
    ],
    mail_domains: &[
        "gmail.com",
        "gmail.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "hotmail.fr",
        "sfr.fr",
        "wanadoo.fr",
        "yahoo.fr",
    ],
    companies: &[
        ("Durand & Fils", "durand-et-fils.fr"),
        ("Atelier Lumière", "atelier-lumiere-lyon.fr"),
        ("Groupe Méridien", "groupe-meridien-conseil.fr"),
        ("Boulangerie Martin", ""),
        ("Cabinet Lefèvre", "cabinet-lefevre-avocats.fr"),
        ("Transports Garnier", "transports-garnier.fr"),
        ("Immobilière du Parc", "immo-du-parc.fr"),
        ("Clinique Saint-Roch", "clinique-saintroch.fr"),
    ],
    positions: &[
        "Directeur général",
        "Responsable commercial",
        "Chef de projet marketing",
        "Gérant",
        "Directrice administrative",
        "Acheteur",
    ],
};

/// The texts people and salespeople write, per language.
struct Texts {
    furniture: &'static [&'static str],
    course: &'static [&'static str],
    /// `{n}`: people in the team.
    software: &'static [&'static str],
    web: &'static [&'static str],
    repeat: &'static [&'static str],
    call: &'static [&'static str],
    expo: &'static [&'static str],
    notes: &'static [&'static str],
    refusal_comments: &'static [&'static str],
}

static RU_TEXT: Texts = Texts {
    furniture: &[
        "Какие сроки доставки?",
        "Есть ли другие цвета обивки?",
        "Можно посмотреть образцы в шоуруме?",
        "Нужен замер, когда сможете приехать?",
        "Подскажите цену с доставкой и сборкой",
        "Интересует рассрочка",
    ],
    course: &[
        "Хочу подтянуть английский для работы, уровень примерно B1",
        "Интересуют занятия для ребёнка 10 лет",
        "Есть ли вечерние группы?",
        "Сколько стоит индивидуальный курс?",
    ],
    software: &[
        "Нас {n} человек в отделе продаж, хотим посмотреть демо",
        "Хотим уйти с Excel, нужна демонстрация",
        "Нужна интеграция с 1С и сайтом",
        "Сколько стоит на {n} пользователей?",
        "Пришлите коммерческое предложение на почту",
    ],
    web: &[
        "Нужен новый сайт для компании, старый устарел",
        "Интересует аудит, упали позиции в поиске",
        "Какие сроки разработки интернет-магазина?",
        "Есть техническое задание, готовы обсудить",
    ],
    repeat: &[
        "Оставлял заявку на прошлой неделе, никто не перезвонил",
        "Повторно: ещё актуально, жду звонка",
        "Ещё раз по поводу моей заявки",
        "Хочу уточнить детали по предыдущему запросу",
    ],
    call: &[
        "Входящий звонок, просит перезвонить после 18:00",
        "Звонил по рекламе, интересуется ценой",
        "Входящий звонок, хочет приехать в офис",
    ],
    expo: &[
        "Подходил к стенду, просил демо",
        "Взял каталог, просил прислать цены",
        "Обменялись визитками, интерес к внедрению",
    ],
    notes: &[
        "Позвонил, не взял трубку",
        "Отправил КП на почту",
        "Договорились о встрече в четверг",
        "Клиент просит скидку 10%",
        "Ждём решения руководства",
        "Перезвонить через неделю",
        "Провёл демонстрацию, есть вопросы по интеграции",
    ],
    refusal_comments: &[
        "Вернуться к разговору в следующем квартале",
        "Выбрали более дешёвый вариант",
        "Проект отложен",
        "Не устроили сроки",
    ],
};

static UK_TEXT: Texts = Texts {
    furniture: &[
        "Які терміни доставки?",
        "Чи є інші кольори оббивки?",
        "Потрібен замір, коли зможете приїхати?",
        "Скільки коштує з доставкою та збиранням?",
        "Чи можна оплатити частинами?",
    ],
    course: &[
        "Хочу підтягнути англійську для роботи, рівень приблизно B1",
        "Цікавлять заняття для дитини 10 років",
        "Чи є вечірні групи?",
        "Скільки коштує індивідуальний курс?",
    ],
    software: &[
        "У відділі продажів {n} людей, хочемо подивитися демо",
        "Хочемо перейти з Excel, потрібна демонстрація",
        "Скільки коштує на {n} користувачів?",
        "Надішліть комерційну пропозицію на пошту",
    ],
    web: &[
        "Потрібен новий сайт для компанії",
        "Цікавить аудит, впали позиції в пошуку",
        "Які терміни розробки інтернет-магазину?",
    ],
    repeat: &[
        "Залишав заявку минулого тижня, ніхто не передзвонив",
        "Повторно: ще актуально, чекаю дзвінка",
        "Хочу уточнити деталі попереднього запиту",
    ],
    call: &[
        "Вхідний дзвінок, просить передзвонити після 18:00",
        "Дзвонив за рекламою, цікавиться ціною",
        "Вхідний дзвінок, хоче приїхати в офіс",
    ],
    expo: &[
        "Підходив до стенду, просив демо",
        "Взяв каталог, просив надіслати ціни",
        "Обмінялися візитками, цікавиться впровадженням",
    ],
    notes: &[
        "Подзвонив, не відповів",
        "Надіслав КП на пошту",
        "Домовилися про зустріч у четвер",
        "Клієнт просить знижку 10%",
        "Чекаємо рішення керівництва",
        "Передзвонити через тиждень",
    ],
    refusal_comments: &[
        "Повернутися до розмови наступного кварталу",
        "Обрали дешевший варіант",
        "Проєкт відкладено",
    ],
};

static EN_TEXT: Texts = Texts {
    furniture: &[
        "What are the delivery times?",
        "Do you have other fabric colours?",
        "Can I see samples in your showroom?",
        "Could someone come to measure the room?",
        "What is the price including delivery and assembly?",
        "Do you offer payment in instalments?",
    ],
    course: &[
        "Looking for a business English course for a new colleague",
        "Do you have evening groups?",
        "How much is a one-to-one course?",
    ],
    software: &[
        "We have {n} people in sales, could we see a demo?",
        "Moving off spreadsheets, could we book a demo?",
        "What would it cost for {n} users?",
        "Do you integrate with our website and accounting?",
        "Please send a quote",
    ],
    web: &[
        "We need a new website, the current one is outdated",
        "Our search rankings dropped, interested in an audit",
        "How long does an online shop take to build?",
        "We have a brief ready and would like to discuss",
    ],
    repeat: &[
        "I sent a request last week and nobody called back",
        "Still interested, please get in touch",
        "Following up on my earlier request",
    ],
    call: &[
        "Inbound call, asked for a call back after 6 pm",
        "Called about the ad, wants pricing",
        "Inbound call, would like to visit the office",
    ],
    expo: &[
        "Stopped by the booth, asked for a demo",
        "Took a brochure, wants the price list",
        "Swapped cards, interested in a rollout",
    ],
    notes: &[
        "Called, no answer",
        "Sent the proposal by email",
        "Meeting booked for Thursday",
        "Asking for a 10% discount",
        "Waiting for the director's decision",
        "Call back next week",
        "Demo done, questions about integration",
    ],
    refusal_comments: &[
        "Revisit next quarter",
        "Went with a cheaper option",
        "Project on hold",
        "Our lead time was too long for them",
    ],
};

static NL_TEXT: Texts = Texts {
    furniture: &[
        "Wat is de levertijd?",
        "Zijn er andere kleuren stof beschikbaar?",
        "Kan ik stalen bekijken in de showroom?",
        "Kunnen jullie langskomen om op te meten?",
        "Wat kost het inclusief bezorging en montage?",
    ],
    course: &[
        "Ik wil mijn Engels verbeteren voor mijn werk, niveau ongeveer B1",
        "Zijn er avondgroepen?",
        "Wat kost een privécursus?",
    ],
    software: &[
        "We hebben {n} mensen in sales, kunnen we een demo zien?",
        "Kunnen we een demo inplannen?",
        "Wat kost het voor {n} gebruikers?",
        "Graag een offerte per e-mail",
    ],
    web: &[
        "We hebben een nieuwe website nodig",
        "Onze posities in Google zijn gedaald, graag een audit",
        "Hoe lang duurt het bouwen van een webshop?",
    ],
    repeat: &[
        "Vorige week een aanvraag gedaan, nog niets gehoord",
        "Nog steeds interesse, graag contact",
        "Ik kom terug op mijn eerdere aanvraag",
    ],
    call: &[
        "Inkomend gesprek, wil na 18:00 teruggebeld worden",
        "Belde naar aanleiding van de advertentie, vraagt naar de prijs",
    ],
    expo: &[
        "Langs geweest bij de stand, wil een demo",
        "Brochure meegenomen, wil de prijslijst",
    ],
    notes: &[
        "Gebeld, geen gehoor",
        "Offerte per e-mail gestuurd",
        "Afspraak gepland op donderdag",
        "Vraagt om 10% korting",
        "Wacht op beslissing van de directie",
        "Volgende week terugbellen",
    ],
    refusal_comments: &[
        "Volgend kwartaal opnieuw benaderen",
        "Gekozen voor een goedkopere optie",
        "Project uitgesteld",
    ],
};

static FR_TEXT: Texts = Texts {
    furniture: &[
        "Quels sont les délais de livraison ?",
        "Avez-vous d'autres coloris de tissu ?",
        "Peut-on voir des échantillons en showroom ?",
        "Pouvez-vous venir prendre les mesures ?",
        "Quel est le prix avec livraison et montage ?",
    ],
    course: &[
        "Je voudrais améliorer mon anglais pour le travail, niveau B1 environ",
        "Avez-vous des cours le soir ?",
        "Combien coûte un cours individuel ?",
        "C'est pour mon fils de 12 ans",
    ],
    software: &[
        "Nous sommes {n} commerciaux, pouvons-nous voir une démo ?",
        "Pouvons-nous planifier une démo ?",
        "Quel est le tarif pour {n} utilisateurs ?",
        "Merci de m'envoyer un devis",
    ],
    web: &[
        "Nous avons besoin d'un nouveau site internet",
        "Notre référencement a chuté, un audit nous intéresse",
        "Quel délai pour une boutique en ligne ?",
    ],
    repeat: &[
        "J'ai fait une demande la semaine dernière, sans réponse",
        "Toujours intéressé, merci de me rappeler",
        "Je reviens vers vous concernant ma demande",
    ],
    call: &[
        "Appel entrant, souhaite être rappelé après 18h",
        "A appelé suite à la publicité, demande les tarifs",
    ],
    expo: &[
        "Passé sur le stand, souhaite une démo",
        "A pris une brochure, veut la grille tarifaire",
    ],
    notes: &[
        "Appelé, pas de réponse",
        "Devis envoyé par e-mail",
        "Rendez-vous fixé jeudi",
        "Demande une remise de 10 %",
        "Attend la décision de la direction",
        "Rappeler la semaine prochaine",
    ],
    refusal_comments: &[
        "Relancer au prochain trimestre",
        "Ont choisi une option moins chère",
        "Projet reporté",
    ],
};

// ---------------------------------------------------------------------------------------------
// Products, channels, events, partners
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    Furniture,
    Course,
    Software,
    Web,
}

struct Product {
    name: &'static str,
    slug: &'static str,
    b2b: bool,
    topic: Topic,
    /// Typical price range in euros.
    price_eur: (u32, u32),
    weight: u32,
    /// (language, search phrase) for the utm_term of paid search.
    terms: &'static [(&'static str, &'static str)],
}

static PRODUCTS: &[Product] = &[
    Product {
        name: "CRM for teams",
        slug: "crm",
        b2b: true,
        topic: Topic::Software,
        price_eur: (1_200, 9_000),
        weight: 16,
        terms: &[
            ("ru", "crm для отдела продаж"),
            ("ru", "crm система"),
            ("uk", "crm система для бізнесу"),
            ("en", "crm for small business"),
            ("en", "sales crm"),
            ("nl", "crm systeem"),
            ("fr", "logiciel crm"),
        ],
    },
    Product {
        name: "Call tracking",
        slug: "call-tracking",
        b2b: true,
        topic: Topic::Software,
        price_eur: (300, 2_400),
        weight: 8,
        terms: &[
            ("ru", "коллтрекинг"),
            ("ru", "отслеживание звонков"),
            ("uk", "колтрекінг"),
            ("en", "call tracking"),
            ("nl", "call tracking"),
            ("fr", "suivi des appels"),
        ],
    },
    Product {
        name: "Website development",
        slug: "website",
        b2b: true,
        topic: Topic::Web,
        price_eur: (2_500, 15_000),
        weight: 9,
        terms: &[
            ("ru", "разработка сайта"),
            ("ru", "заказать сайт"),
            ("uk", "розробка сайту"),
            ("en", "website development"),
            ("en", "web design agency"),
            ("nl", "website laten maken"),
            ("fr", "création site internet"),
        ],
    },
    Product {
        name: "SEO audit",
        slug: "seo-audit",
        b2b: true,
        topic: Topic::Web,
        price_eur: (500, 2_000),
        weight: 7,
        terms: &[
            ("ru", "seo аудит сайта"),
            ("uk", "seo аудит"),
            ("en", "seo audit"),
            ("nl", "seo audit"),
            ("fr", "audit seo"),
        ],
    },
    Product {
        name: "Sofa Oslo",
        slug: "sofa-oslo",
        b2b: false,
        topic: Topic::Furniture,
        price_eur: (890, 1_490),
        weight: 18,
        terms: &[
            ("ru", "купить диван"),
            ("ru", "диван oslo"),
            ("uk", "купити диван"),
            ("en", "sofa oslo"),
            ("en", "3 seater sofa"),
            ("nl", "bank kopen"),
            ("fr", "canapé oslo"),
        ],
    },
    Product {
        name: "Wardrobe Bergen",
        slug: "wardrobe-bergen",
        b2b: false,
        topic: Topic::Furniture,
        price_eur: (650, 1_800),
        weight: 10,
        terms: &[
            ("ru", "шкаф купе"),
            ("uk", "шафа купе"),
            ("en", "fitted wardrobe"),
            ("nl", "kledingkast"),
            ("fr", "armoire dressing"),
        ],
    },
    Product {
        name: "Kitchen design",
        slug: "kitchen-design",
        b2b: false,
        topic: Topic::Furniture,
        price_eur: (2_500, 12_000),
        weight: 14,
        terms: &[
            ("ru", "кухня на заказ"),
            ("uk", "кухня на замовлення"),
            ("en", "kitchen design"),
            ("nl", "keuken op maat"),
            ("fr", "cuisine sur mesure"),
        ],
    },
    Product {
        name: "English course",
        slug: "english-course",
        b2b: false,
        topic: Topic::Course,
        price_eur: (290, 990),
        weight: 12,
        terms: &[
            ("ru", "курсы английского"),
            ("uk", "курси англійської"),
            ("en", "business english course"),
            ("nl", "cursus engels"),
            ("fr", "cours d'anglais"),
        ],
    },
];

impl Product {
    fn sells_in(&self, loc: Loc) -> bool {
        // Nobody in London buys an English course from us.
        !(self.topic == Topic::Course && matches!(loc, Loc::Gb | Loc::Us))
    }
}

/// Where a request came from, as its UTM fields tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    GoogleCpc,
    YandexCpc,
    Facebook,
    Vk,
    Linkedin,
    Newsletter,
    OrganicGoogle,
    OrganicYandex,
    Direct,
    Partner,
    Expo,
    Phone,
}

fn source_weights(loc: Loc) -> &'static [(Source, u32)] {
    use Source::*;
    match loc {
        Loc::Ru => &[
            (GoogleCpc, 7),
            (YandexCpc, 22),
            (Vk, 12),
            (Newsletter, 7),
            (OrganicGoogle, 5),
            (OrganicYandex, 13),
            (Direct, 9),
            (Partner, 9),
            (Expo, 5),
            (Phone, 7),
        ],
        Loc::Ua => &[
            (GoogleCpc, 26),
            (Facebook, 18),
            (Linkedin, 2),
            (Newsletter, 8),
            (OrganicGoogle, 18),
            (Direct, 10),
            (Partner, 7),
            (Expo, 5),
            (Phone, 6),
        ],
        _ => &[
            (GoogleCpc, 26),
            (Facebook, 15),
            (Linkedin, 6),
            (Newsletter, 9),
            (OrganicGoogle, 18),
            (Direct, 9),
            (Partner, 8),
            (Expo, 5),
            (Phone, 4),
        ],
    }
}

/// Trade shows whose badge scans are imported a day or two after the show.
struct Event {
    loc: Loc,
    campaign: &'static str,
    days_ago: i64,
    b2b: bool,
}

static EVENTS: &[Event] = &[
    Event {
        loc: Loc::Ru,
        campaign: "crm_expo_moscow",
        days_ago: 152,
        b2b: true,
    },
    Event {
        loc: Loc::Ru,
        campaign: "mebel_expo_moscow",
        days_ago: 95,
        b2b: false,
    },
    Event {
        loc: Loc::Ru,
        campaign: "business_forum_spb",
        days_ago: 38,
        b2b: true,
    },
    Event {
        loc: Loc::Ua,
        campaign: "kyiv_business_expo",
        days_ago: 130,
        b2b: true,
    },
    Event {
        loc: Loc::Ua,
        campaign: "lviv_interior_fair",
        days_ago: 55,
        b2b: false,
    },
    Event {
        loc: Loc::Gb,
        campaign: "london_business_show",
        days_ago: 120,
        b2b: true,
    },
    Event {
        loc: Loc::Gb,
        campaign: "home_show_birmingham",
        days_ago: 44,
        b2b: false,
    },
    Event {
        loc: Loc::Us,
        campaign: "saas_summit_austin",
        days_ago: 140,
        b2b: true,
    },
    Event {
        loc: Loc::Us,
        campaign: "home_expo_chicago",
        days_ago: 70,
        b2b: false,
    },
    Event {
        loc: Loc::Nl,
        campaign: "vakbeurs_utrecht",
        days_ago: 110,
        b2b: true,
    },
    Event {
        loc: Loc::Nl,
        campaign: "woonbeurs_amsterdam",
        days_ago: 30,
        b2b: false,
    },
    Event {
        loc: Loc::Fr,
        campaign: "salon_pme_paris",
        days_ago: 125,
        b2b: true,
    },
    Event {
        loc: Loc::Fr,
        campaign: "salon_maison_lyon",
        days_ago: 50,
        b2b: false,
    },
];

/// Partners that send us leads through the partner API.
struct Partner {
    slug: &'static str,
    cyrillic_markets: bool,
    /// Empty: any product.
    topics: &'static [Topic],
}

static PARTNERS: &[Partner] = &[
    Partner {
        slug: "leadhub",
        cyrillic_markets: true,
        topics: &[],
    },
    Partner {
        slug: "mebelmarket",
        cyrillic_markets: true,
        topics: &[Topic::Furniture],
    },
    Partner {
        slug: "bizportal",
        cyrillic_markets: true,
        topics: &[Topic::Software, Topic::Web],
    },
    Partner {
        slug: "leadhub",
        cyrillic_markets: false,
        topics: &[],
    },
    Partner {
        slug: "homestyle",
        cyrillic_markets: false,
        topics: &[Topic::Furniture],
    },
    Partner {
        slug: "saasadvisor",
        cyrillic_markets: false,
        topics: &[Topic::Software],
    },
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36 YaBrowser/24.4",
];

/// Relative traffic per hour of the local day.
const HOUR_WEIGHTS: [u32; 24] = [
    2, 1, 1, 1, 1, 2, 3, 5, 9, 15, 18, 18, 16, 15, 17, 17, 16, 14, 12, 11, 10, 9, 6, 4,
];

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Repeat,
    JunkLike,
}

struct Slot {
    at: Millis,
    loc: Loc,
    source: Source,
    kind: Kind,
    event: Option<&'static Event>,
}

#[derive(Clone)]
struct Person {
    loc: Loc,
    first: &'static str,
    last: String,
    email: Option<String>,
    /// National significant number, its E.164 form and how the person wrote it.
    phone: Option<(String, String, String)>,
    company: Option<&'static str>,
}

/// A lead that a later repeat may refer to.
struct Origin {
    index: usize,
    received_at: Millis,
    person: Person,
    product: Option<&'static Product>,
    /// When the lead left the open stages (or `Millis::MAX`).
    open_until: Millis,
}

#[derive(Debug, Clone, Copy)]
enum Destiny {
    Convert,
    Refuse,
    Junk,
    Open(Stage),
}

struct Gen<'a> {
    cfg: &'a DemoConfig,
    rng: ChaCha8Rng,
    used_emails: HashSet<String>,
    used_phones: HashSet<String>,
    origins: Vec<Origin>,
}

impl<'a> Gen<'a> {
    fn new(cfg: &'a DemoConfig) -> Self {
        Gen {
            cfg,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            used_emails: HashSet::new(),
            used_phones: HashSet::new(),
            origins: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<DemoLead> {
        let mut slots = self.slots();
        slots.sort_by_key(|s| s.at);
        let mut out = Vec::with_capacity(slots.len());
        for slot in &slots {
            let index = out.len();
            let lead = match slot.kind {
                Kind::JunkLike => self.junk_like(slot),
                Kind::Repeat => match self.pick_origin(slot.at) {
                    Some(o) => self.repeat(slot, o),
                    None => self.normal(slot, index),
                },
                Kind::Normal => self.normal(slot, index),
            };
            out.push(lead);
        }
        out
    }

    // --- small random helpers ---

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.gen_range(0..items.len())]
    }

    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.rng.gen_range(0..total.max(1));
        for (item, w) in items {
            if r < *w {
                return *item;
            }
            r -= w;
        }
        items[items.len() - 1].0
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    fn between(&mut self, lo: Millis, hi: Millis) -> Millis {
        if hi <= lo {
            lo
        } else {
            self.rng.gen_range(lo..hi)
        }
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.rng.gen_range(0..10u8)))
            .collect()
    }

    // --- when requests arrive ---

    fn slots(&mut self) -> Vec<Slot> {
        let anchor = self.cfg.anchor;
        let start = anchor - SPAN_DAYS * DAY;
        let first_day = start.div_euclid(DAY);
        let last_day = (anchor - 1).div_euclid(DAY);
        // Business grows: the last weeks are busier than the first; weekends are quiet.
        let days: Vec<(i64, u32)> = (first_day..=last_day)
            .map(|d| {
                let k = (d - first_day) as f64 / (last_day - first_day).max(1) as f64;
                let trend = 0.55 + 0.45 * k;
                let week = if weekday(d) >= 5 { 0.45 } else { 1.0 };
                (d, (trend * week * 1000.0) as u32)
            })
            .collect();
        let hours: Vec<(i64, u32)> = HOUR_WEIGHTS
            .iter()
            .enumerate()
            .map(|(h, w)| (h as i64, *w))
            .collect();

        let mut slots = Vec::with_capacity(self.cfg.leads);
        for _ in 0..self.cfg.leads {
            let loc = self.weighted(LOCS);
            let r: f64 = self.rng.gen();
            let kind = if r < 0.01 {
                Kind::JunkLike
            } else if r < 0.04 {
                Kind::Repeat
            } else {
                Kind::Normal
            };
            let source = match kind {
                Kind::Normal => self.weighted(source_weights(loc)),
                Kind::Repeat => self.weighted(&[
                    (Source::GoogleCpc, 3),
                    (Source::OrganicGoogle, 2),
                    (Source::Direct, 3),
                    (Source::Newsletter, 1),
                    (Source::Phone, 2),
                ]),
                Kind::JunkLike => self.weighted(&[
                    (Source::GoogleCpc, 2),
                    (Source::Direct, 3),
                    (Source::OrganicGoogle, 2),
                ]),
            };
            let event = if source == Source::Expo {
                let options: Vec<&'static Event> = EVENTS
                    .iter()
                    .filter(|e| e.loc == loc && e.days_ago + 3 < SPAN_DAYS)
                    .collect();
                if options.is_empty() {
                    None
                } else {
                    Some(options[self.rng.gen_range(0..options.len())])
                }
            } else {
                None
            };
            let off = loc.utc_offset();
            let at = match event {
                // Badge scans are imported in one sitting a day or two after the show.
                Some(e) => {
                    let show_day = (anchor - e.days_ago * DAY).div_euclid(DAY);
                    let day = show_day + self.rng.gen_range(1..=2);
                    day * DAY + 10 * HOUR + self.between(0, 7 * HOUR) - off
                }
                None => {
                    let mut at = None;
                    for _ in 0..100 {
                        let day = self.weighted(&days);
                        let hour = self.weighted(&hours);
                        let t = day * DAY + hour * HOUR + self.between(0, HOUR) - off;
                        if t >= start && t < anchor {
                            at = Some(t);
                            break;
                        }
                    }
                    at.unwrap_or_else(|| self.between(start, anchor))
                }
            };
            let at = at.clamp(start, anchor - 1);
            let source = if source == Source::Expo && event.is_none() {
                Source::Direct
            } else {
                source
            };
            slots.push(Slot {
                at,
                loc,
                source,
                kind,
                event,
            });
        }
        slots
    }

    /// Moves a moment into the local working day (Mon–Fri 9:00–19:00).
    fn working_time(&mut self, t: Millis, loc: Loc) -> Millis {
        let off = loc.utc_offset();
        let local = t + off;
        let day = local.div_euclid(DAY);
        let tod = local.rem_euclid(DAY);
        if weekday(day) < 5 && (9 * HOUR..19 * HOUR).contains(&tod) {
            return t;
        }
        let mut d = if weekday(day) < 5 && tod < 9 * HOUR {
            day
        } else {
            day + 1
        };
        while weekday(d) >= 5 {
            d += 1;
        }
        d * DAY + 9 * HOUR + self.between(0, 90 * MINUTE) - off
    }

    // --- who asks ---

    fn product_for(&mut self, loc: Loc, filter: impl Fn(&Product) -> bool) -> &'static Product {
        let options: Vec<(&'static Product, u32)> = PRODUCTS
            .iter()
            .filter(|p| p.sells_in(loc) && filter(p))
            .map(|p| (p, p.weight))
            .collect();
        if options.is_empty() {
            &PRODUCTS[0]
        } else {
            self.weighted(&options)
        }
    }

    fn person(&mut self, loc: Loc, b2b: bool, want_phone: f64, want_email: f64) -> Person {
        let names = loc.names();
        let female = self.chance(0.5);
        let first = if female {
            self.pick(names.female)
        } else {
            self.pick(names.male)
        };
        let last_base = self.pick(names.last);
        let last = if female {
            feminine_surname(loc, last_base)
        } else {
            last_base.to_string()
        };
        let company = if b2b && self.chance(0.9) {
            Some(self.pick(names.companies))
        } else {
            None
        };
        let mut has_phone = self.chance(want_phone);
        let has_email = self.chance(want_email);
        if !has_phone && !has_email {
            has_phone = true;
        }
        let email = has_email.then(|| {
            let domain = company.map(|c| c.1).filter(|d| !d.is_empty());
            self.email(loc, first, &last, domain)
        });
        let phone = has_phone.then(|| self.phone(loc));
        Person {
            loc,
            first,
            last,
            email,
            phone,
            company: company.map(|c| c.0),
        }
    }

    fn email(&mut self, loc: Loc, first: &str, last: &str, company: Option<&str>) -> String {
        let f = ascii_slug(loc, first);
        let l = ascii_slug(loc, last);
        let fi = f.chars().next().unwrap_or('x');
        for _ in 0..6 {
            let (local, domain) = match company {
                Some(d) => {
                    let local = match self.rng.gen_range(0..4) {
                        0 | 1 => format!("{f}.{l}"),
                        2 => f.clone(),
                        _ => format!("{fi}.{l}"),
                    };
                    (local, d.to_string())
                }
                None => {
                    let domain = self.pick(loc.names().mail_domains).to_string();
                    let local = match self.rng.gen_range(0..8) {
                        0 | 1 => format!("{f}.{l}"),
                        2 => format!("{f}{l}"),
                        3 => format!("{f}_{l}"),
                        4 => format!("{f}.{l}{}", self.rng.gen_range(70..100)),
                        5 => format!("{f}{}", self.rng.gen_range(1..2000)),
                        6 => format!("{fi}.{l}"),
                        _ => format!("{l}.{f}"),
                    };
                    (local, domain)
                }
            };
            let email = format!("{local}@{domain}");
            if self.used_emails.insert(email.clone()) {
                return email;
            }
        }
        let domain = company
            .map(str::to_string)
            .unwrap_or_else(|| "gmail.com".to_string());
        loop {
            let email = format!("{f}.{l}{}@{domain}", self.rng.gen_range(2..100_000));
            if self.used_emails.insert(email.clone()) {
                return email;
            }
        }
    }

    /// A valid mobile number of the market as (national significant number, E.164, spelling).
    fn phone(&mut self, loc: Loc) -> (String, String, String) {
        let mut last = None;
        for _ in 0..50 {
            let nsn = self.national_number(loc);
            let e164 = format!("+{}{}", country_code(loc), nsn);
            let style = self.rng.gen_range(0..phone_styles(loc));
            let raw = phone_spelling(loc, &nsn, style);
            if parse_e164(&raw, loc.country()).as_deref() == Some(e164.as_str())
                && self.used_phones.insert(e164.clone())
            {
                return (nsn, e164, raw);
            }
            last = Some((nsn, e164));
        }
        // Practically unreachable: the number ranges are chosen to be valid.
        let (nsn, e164) = last.unwrap_or_default();
        let raw = e164.clone();
        (nsn, e164, raw)
    }

    fn national_number(&mut self, loc: Loc) -> String {
        match loc {
            Loc::Ru => format!("9{}", self.digits(9)),
            Loc::Ua => {
                let op = self.pick(&[
                    "50", "66", "95", "99", "67", "68", "96", "97", "98", "63", "73", "93",
                ]);
                format!("{op}{}", self.digits(7))
            }
            Loc::Gb => format!("7{}{}", self.rng.gen_range(4..10), self.digits(8)),
            Loc::Us => {
                let area = self.pick(&[
                    "212", "646", "718", "917", "310", "213", "415", "628", "312", "773", "617",
                    "305", "512", "206", "303", "404", "702", "602", "214", "713",
                ]);
                let exchange = loop {
                    let e = format!("{}{}", self.rng.gen_range(2..10), self.digits(2));
                    if e != "555" && !e.ends_with("11") {
                        break e;
                    }
                };
                format!("{area}{exchange}{}", self.digits(4))
            }
            Loc::Nl => format!(
                "6{}{}",
                self.pick(&["1", "2", "3", "4", "5"]),
                self.digits(7)
            ),
            Loc::Fr => {
                if self.chance(0.75) {
                    format!("6{}", self.digits(8))
                } else {
                    format!("7{}{}", self.rng.gen_range(5..9), self.digits(7))
                }
            }
        }
    }

    // --- one request ---

    fn normal(&mut self, slot: &Slot, index: usize) -> DemoLead {
        let loc = slot.loc;
        let product = match (slot.source, slot.event) {
            (_, Some(e)) => self.product_for(loc, |p| p.b2b == e.b2b),
            (Source::Linkedin, _) => self.product_for(loc, |p| p.b2b),
            (Source::Partner, _) => {
                let options: Vec<&'static Partner> = PARTNERS
                    .iter()
                    .filter(|p| p.cyrillic_markets == loc.cyrillic())
                    .collect();
                let partner = options[self.rng.gen_range(0..options.len())];
                self.product_for(loc, |p| {
                    partner.topics.is_empty() || partner.topics.contains(&p.topic)
                })
            }
            _ => self.product_for(loc, |_| true),
        };
        let (want_phone, want_email) = match (slot.source, product.b2b) {
            (Source::Phone, _) => (1.0, 0.3),
            (Source::Expo, _) => (0.7, 0.9),
            (_, true) => (0.75, 0.95),
            (_, false) => (0.95, 0.55),
        };
        let person = self.person(loc, product.b2b, want_phone, want_email);
        let partner = if slot.source == Source::Partner {
            let options: Vec<&'static Partner> = PARTNERS
                .iter()
                .filter(|p| {
                    p.cyrillic_markets == loc.cyrillic()
                        && (p.topics.is_empty() || p.topics.contains(&product.topic))
                })
                .collect();
            Some(options[self.rng.gen_range(0..options.len())].slug)
        } else {
            None
        };

        let mut sub = Submission::new(channel_of(slot.source), slot.at);
        sub.partner = partner.map(str::to_string);
        self.attribution(&mut sub, slot, Some(product), partner, false);
        self.name_fields(&mut sub, &person, slot.source);
        self.contact_fields(&mut sub, &person, None);
        sub.fields.insert("country".into(), loc.country().into());
        if channel_of(slot.source) == Channel::WebForm && self.chance(0.85) {
            sub.fields.insert("language".into(), loc.language().into());
        }
        let lists_product = match slot.source {
            Source::Phone | Source::Expo | Source::Partner => self.chance(0.97),
            _ => self.chance(0.9),
        };
        if lists_product {
            sub.fields.insert("product".into(), product.name.into());
        }
        if product.b2b {
            if let Some(c) = person.company {
                sub.fields.insert("company".into(), c.into());
            }
            if self.chance(0.6) {
                let pos = self.pick(loc.names().positions);
                sub.fields.insert("position".into(), pos.into());
            }
        }
        let stated = if self.chance(if product.b2b { 0.5 } else { 0.15 }) {
            let v = self.price(loc, product);
            sub.fields.insert("value".into(), money_text(loc, v));
            sub.fields.insert("currency".into(), loc.currency().into());
            Some(v)
        } else {
            None
        };
        let seats = self.rng.gen_range(3..60);
        let message = match slot.source {
            Source::Phone => Some(self.pick(loc.text().call).to_string()),
            Source::Expo if self.chance(0.7) => Some(self.pick(loc.text().expo).to_string()),
            Source::Expo => None,
            _ if self.chance(0.4) => Some(self.topic_message(loc, product.topic, seats)),
            _ => None,
        };
        if let Some(m) = message {
            sub.fields.insert("message".into(), m);
        }
        let temperature = match slot.source {
            Source::Partner if self.chance(0.4) => Some(self.pick(&["warm", "warm", "hot"])),
            Source::Expo if self.chance(0.5) => Some(self.pick(&["warm", "hot", "hot"])),
            _ => None,
        };
        if let Some(t) = temperature {
            sub.fields.insert("temperature".into(), t.into());
        }

        let destiny = self.destiny(slot.source, product.b2b, self.cfg.anchor - slot.at);
        let who = person
            .company
            .map(str::to_string)
            .unwrap_or_else(|| format!("{} {}", person.first, person.last));
        let (steps, open_until) = self.history(slot.at, loc, product, destiny, stated, &who);
        self.origins.push(Origin {
            index,
            received_at: slot.at,
            person,
            product: lists_product.then_some(product),
            open_until,
        });
        DemoLead {
            submission: sub,
            steps,
            repeat_of: None,
        }
    }

    fn topic_message(&mut self, loc: Loc, topic: Topic, seats: i64) -> String {
        let t = loc.text();
        let list = match topic {
            Topic::Furniture => t.furniture,
            Topic::Course => t.course,
            Topic::Software => t.software,
            Topic::Web => t.web,
        };
        self.pick(list).replace("{n}", &seats.to_string())
    }

    /// UTM fields, landing page, referrer and browser of a request.
    fn attribution(
        &mut self,
        sub: &mut Submission,
        slot: &Slot,
        product: Option<&'static Product>,
        partner: Option<&'static str>,
        repeat: bool,
    ) {
        let slug = product.map(|p| p.slug).unwrap_or("contacts");
        let cc = slot.loc.country().to_lowercase();
        let mut f: Vec<(&str, String)> = Vec::new();
        let mut page = Some(format!("https://example.com/{slug}"));
        match slot.source {
            Source::GoogleCpc | Source::YandexCpc => {
                let (src, referrer) = if slot.source == Source::GoogleCpc {
                    ("google", "https://www.google.com/")
                } else {
                    ("yandex", "https://yandex.ru/")
                };
                f.push(("utm_source", src.into()));
                f.push(("utm_medium", "cpc".into()));
                let campaign = if repeat || self.chance(0.12) {
                    format!("{slug}_remarketing_{cc}")
                } else if self.chance(0.15) {
                    format!("brand_{cc}")
                } else {
                    format!("{slug}_search_{cc}")
                };
                f.push(("utm_campaign", campaign));
                if let Some(p) = product {
                    let lang = slot.loc.language();
                    let terms: Vec<&str> = p
                        .terms
                        .iter()
                        .filter(|(l, _)| *l == lang)
                        .map(|(_, t)| *t)
                        .collect();
                    if !terms.is_empty() {
                        f.push(("utm_term", self.pick(&terms).into()));
                    }
                }
                f.push(("utm_content", format!("ad{}", self.rng.gen_range(1..5))));
                f.push(("referrer", referrer.into()));
            }
            Source::Facebook | Source::Vk | Source::Linkedin => {
                let (src, referrer) = match slot.source {
                    Source::Facebook if self.chance(0.4) => {
                        ("instagram", "https://l.instagram.com/")
                    }
                    Source::Facebook => ("facebook", "https://l.facebook.com/"),
                    Source::Vk => ("vk", "https://vk.com/"),
                    _ => ("linkedin", "https://www.linkedin.com/"),
                };
                // Instagram ads are bought in the same account and tagged as facebook.
                let src = if src == "instagram" { "facebook" } else { src };
                f.push(("utm_source", src.into()));
                f.push(("utm_medium", "social".into()));
                f.push(("utm_campaign", format!("{slug}_leads_{cc}")));
                let content = self.pick(&["video", "carousel", "story", "image"]);
                f.push(("utm_content", content.into()));
                f.push(("referrer", referrer.into()));
            }
            Source::Newsletter => {
                let month = chrono::DateTime::from_timestamp_millis(slot.at)
                    .map(|d| d.format("%Y_%m").to_string())
                    .unwrap_or_default();
                f.push(("utm_source", "newsletter".into()));
                f.push(("utm_medium", "email".into()));
                f.push(("utm_campaign", format!("digest_{month}")));
                let content = self.pick(&["button", "header_link", "banner"]);
                f.push(("utm_content", content.into()));
            }
            Source::OrganicGoogle | Source::OrganicYandex => {
                let (src, referrer) = if slot.source == Source::OrganicGoogle {
                    ("google", "https://www.google.com/")
                } else {
                    ("yandex", "https://yandex.ru/")
                };
                // Some sites tag organic visits themselves; most only keep the referrer.
                if self.chance(0.55) {
                    f.push(("utm_source", src.into()));
                    f.push(("utm_medium", "organic".into()));
                }
                f.push(("referrer", referrer.into()));
                if self.chance(0.3) {
                    page = Some(format!("https://example.com/blog/{slug}-guide"));
                }
            }
            Source::Direct => {
                if self.chance(0.2) {
                    page = Some("https://example.com/".into());
                }
            }
            Source::Partner => {
                let p = partner.unwrap_or("leadhub");
                f.push(("utm_source", p.into()));
                f.push(("utm_medium", "partner".into()));
                if self.chance(0.5) {
                    f.push(("utm_campaign", format!("{p}_{slug}")));
                }
                page = None;
            }
            Source::Expo => {
                f.push(("utm_source", "expo".into()));
                f.push(("utm_medium", "offline".into()));
                let campaign = slot.event.map(|e| e.campaign).unwrap_or("expo");
                f.push(("utm_campaign", campaign.into()));
                page = None;
            }
            Source::Phone => {
                f.push(("utm_source", "phone".into()));
                f.push(("utm_medium", "call".into()));
                page = None;
            }
        }
        if let Some(p) = page {
            f.push(("page", p));
        }
        for (k, v) in f {
            sub.fields.insert(k.to_string(), v);
        }
        if sub.channel == Channel::WebForm {
            sub.user_agent = Some(self.pick(USER_AGENTS).to_string());
            // Documentation address ranges (RFC 5737): never a real visitor.
            let net = self.pick(&["192.0.2", "198.51.100", "203.0.113"]);
            sub.ip = Some(format!("{net}.{}", self.rng.gen_range(1..255)));
        }
    }

    fn name_fields(&mut self, sub: &mut Submission, p: &Person, source: Source) {
        let typed_by_staff = matches!(source, Source::Phone | Source::Expo | Source::Partner);
        let lower = !typed_by_staff && self.chance(0.04);
        let cased = |s: &str| {
            if lower {
                s.to_lowercase()
            } else {
                s.to_string()
            }
        };
        let style = if typed_by_staff {
            self.rng.gen_range(0..2)
        } else {
            self.weighted(&[(0, 55), (1, 30), (2, 15)])
        };
        match style {
            0 => {
                let full = format!("{} {}", p.first, p.last);
                sub.fields.insert("name".into(), cased(&full));
            }
            1 => {
                sub.fields.insert("first_name".into(), cased(p.first));
                sub.fields.insert("last_name".into(), cased(&p.last));
            }
            _ => {
                sub.fields.insert("name".into(), cased(p.first));
            }
        }
    }

    /// Phone and email; `respell` writes the phone in another common way.
    fn contact_fields(&mut self, sub: &mut Submission, p: &Person, respell: Option<bool>) {
        if let Some((nsn, e164, raw)) = &p.phone {
            let mut spelled = raw.clone();
            if respell == Some(true) {
                let style = self.rng.gen_range(0..phone_styles(p.loc));
                let other = phone_spelling(p.loc, nsn, style);
                if parse_e164(&other, p.loc.country()).as_deref() == Some(e164.as_str()) {
                    spelled = other;
                }
            }
            sub.fields.insert("phone".into(), spelled);
        }
        if let Some(e) = &p.email {
            let written = if self.chance(0.03) {
                capitalize(e)
            } else {
                e.clone()
            };
            sub.fields.insert("email".into(), written);
        }
    }

    fn price(&mut self, loc: Loc, product: &Product) -> i64 {
        let (rate, step) = loc.price_rate();
        let (lo, hi) = product.price_eur;
        let eur = self.rng.gen_range(lo as f64..=hi as f64);
        round_to(eur * rate, step)
    }

    /// How a request ends. The chances depend on the source and on whether the product is sold
    /// to businesses, so that the predictive score has something to learn from the demo.
    /// A request older than two weeks that is still open has been worked on: none stays new.
    fn destiny(&mut self, source: Source, b2b: bool, age: Millis) -> Destiny {
        let (mut convert, refuse, mut junk) = (0.12, 0.25, 0.04);
        match source {
            Source::Partner => convert *= 1.5,
            Source::Expo => convert *= 1.6,
            Source::Phone => {
                convert *= 1.6;
                junk *= 0.5;
            }
            Source::Facebook | Source::Vk => {
                convert *= 0.5;
                junk *= 1.6;
            }
            Source::Direct | Source::OrganicGoogle | Source::OrganicYandex => convert *= 1.1,
            _ => {}
        }
        convert *= if b2b { 1.2 } else { 0.85 };
        let r: f64 = self.rng.gen();
        if r < convert {
            Destiny::Convert
        } else if r < convert + refuse {
            Destiny::Refuse
        } else if r < convert + refuse + junk {
            Destiny::Junk
        } else {
            let new = if age < 14 * 86_400_000 { 6 } else { 0 };
            Destiny::Open(self.weighted(&[
                (Stage::New, new),
                (Stage::Working, 44),
                (Stage::Mql, 27),
                (Stage::Sql, 23),
            ]))
        }
    }

    /// The salespeople's actions on a lead; returns them and when the lead closed.
    fn history(
        &mut self,
        t0: Millis,
        loc: Loc,
        product: &'static Product,
        destiny: Destiny,
        stated: Option<i64>,
        who: &str,
    ) -> (Vec<DemoStep>, Millis) {
        use Stage::{Mql, Sql, Working};
        let anchor = self.cfg.anchor;
        // Open stages passed through, then the outcome (if any).
        let mut path: Vec<Stage> = match destiny {
            Destiny::Convert => self.weighted(&[
                (&[Working, Mql, Sql][..], 50),
                (&[Working, Sql][..], 25),
                (&[Working][..], 15),
                (&[Sql][..], 10),
            ]),
            Destiny::Refuse => self.weighted(&[
                (&[Working][..], 45),
                (&[Working, Mql][..], 25),
                (&[Working, Mql, Sql][..], 12),
                (&[Working, Sql][..], 8),
                (&[][..], 10),
            ]),
            Destiny::Junk => self.weighted(&[(&[][..], 70), (&[Working][..], 30)]),
            Destiny::Open(Stage::New) => &[][..],
            Destiny::Open(Stage::Mql) => {
                self.weighted(&[(&[Working, Mql][..], 80), (&[Mql][..], 20)])
            }
            Destiny::Open(Stage::Sql) => self.weighted(&[
                (&[Working, Mql, Sql][..], 45),
                (&[Working, Sql][..], 40),
                (&[Sql][..], 15),
            ]),
            Destiny::Open(_) => &[Working][..],
        }
        .to_vec();
        // Now and then a qualified lead is handed back for more work and re-qualified.
        if path.last() == Some(&Sql) && self.chance(0.08) {
            path.extend([Working, Sql]);
        }
        let outcome = !matches!(destiny, Destiny::Open(_));
        let n = path.len() + usize::from(outcome);
        if n == 0 {
            return (Vec::new(), Millis::MAX);
        }

        let response = match self.rng.gen_range(0..100) {
            0..=24 => self.between(10 * MINUTE, 2 * HOUR),
            25..=64 => self.between(2 * HOUR, 24 * HOUR),
            _ => self.between(DAY, 4 * DAY),
        };
        let t1 = self.working_time(t0 + response, loc);
        let span = match destiny {
            Destiny::Convert if product.b2b => self.between(10 * DAY, 60 * DAY),
            Destiny::Convert => self.between(3 * DAY, 35 * DAY),
            Destiny::Refuse => self.between(DAY, 45 * DAY),
            Destiny::Junk => response + self.between(10 * MINUTE, 3 * HOUR),
            Destiny::Open(_) => self.between(DAY, 50 * DAY),
        };
        let t_last = self.working_time((t0 + span).max(t1 + 30 * MINUTE), loc);
        let mut times = vec![t1; n];
        if n > 1 {
            times[n - 1] = t_last;
            let mut fractions: Vec<f64> = (1..n - 1).map(|_| self.rng.gen()).collect();
            fractions.sort_by(f64::total_cmp);
            for (i, f) in fractions.into_iter().enumerate() {
                let t = t1 + ((t_last - t1) as f64 * f) as Millis;
                times[i + 1] = self.working_time(t, loc);
            }
            for i in 1..n {
                let gap = self.between(5 * MINUTE, 45 * MINUTE);
                times[i] = times[i].max(times[i - 1] + gap);
            }
        }

        let mut steps: Vec<DemoStep> = path
            .iter()
            .zip(&times)
            .map(|(to, at)| DemoStep::Stage { to: *to, at: *at })
            .collect();
        let mut open_until = Millis::MAX;
        if outcome {
            let at = times[n - 1];
            open_until = at;
            steps.push(self.outcome(&destiny, at, loc, product, stated, who));
        }
        steps.retain(|s| s.at() <= anchor);
        // Whoever works the lead calls first: that call is its first response.
        if !steps.is_empty() {
            steps.insert(0, DemoStep::Call { at: t1 });
        }

        // A few notes between the stage changes.
        if let Some(last) = steps.last().map(DemoStep::at) {
            let count = self.weighted(&[(0, 35), (1, 35), (2, 20), (3, 10)]);
            for _ in 0..count {
                let at = self.between(t1, last + 1);
                let body = self.pick(loc.text().notes).to_string();
                steps.push(DemoStep::Note { body, at });
            }
            steps.sort_by_key(DemoStep::at);
        }
        (steps, open_until)
    }

    fn outcome(
        &mut self,
        destiny: &Destiny,
        at: Millis,
        loc: Loc,
        product: &'static Product,
        stated: Option<i64>,
        who: &str,
    ) -> DemoStep {
        match destiny {
            Destiny::Convert => {
                let (_, step) = loc.price_rate();
                let major = match stated {
                    Some(v) => round_to(v as f64 * self.rng.gen_range(0.7..1.15), step),
                    None => self.price(loc, product),
                };
                let currency = Currency::parse(loc.currency()).expect("ISO code");
                DemoStep::Convert {
                    amount: Money::new(major * 100, currency),
                    title: format!("{} — {}", product.name, who),
                    at,
                }
            }
            Destiny::Refuse => {
                let reason = self.weighted(&[
                    ("Too expensive", 24),
                    ("Chose a competitor", 18),
                    ("No budget now", 14),
                    ("Not the decision maker", 8),
                    ("Just browsing", 12),
                    ("Bad timing", 12),
                    ("No response", 12),
                ]);
                let comment = self
                    .chance(0.4)
                    .then(|| self.pick(loc.text().refusal_comments).to_string());
                let freeze_p = match reason {
                    "No budget now" | "Bad timing" => 0.7,
                    "Too expensive" | "Not the decision maker" => 0.25,
                    _ => 0.1,
                };
                let freeze_until = self
                    .chance(freeze_p)
                    .then(|| at + self.between(14 * DAY, 150 * DAY));
                DemoStep::Refuse {
                    reason: reason.to_string(),
                    comment,
                    freeze_until,
                    at,
                }
            }
            _ => {
                let reason = self.weighted(&[
                    ("Wrong number", 30),
                    ("Fake contact details", 25),
                    ("Duplicate", 20),
                    ("Competitor research", 10),
                    ("Spam", 15),
                ]);
                DemoStep::Junk {
                    reason: reason.to_string(),
                    at,
                }
            }
        }
    }

    // --- repeats and junk ---

    /// An earlier lead, still open and recent, whose person may ask again.
    fn pick_origin(&mut self, at: Millis) -> Option<usize> {
        let candidates: Vec<usize> = self
            .origins
            .iter()
            .enumerate()
            .rev()
            .take_while(|(_, o)| o.received_at >= at - 45 * DAY)
            .filter(|(_, o)| o.received_at <= at - 30 * MINUTE && o.open_until > at + HOUR)
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            None
        } else {
            Some(candidates[self.rng.gen_range(0..candidates.len())])
        }
    }

    fn repeat(&mut self, slot: &Slot, origin: usize) -> DemoLead {
        let (index, person, product) = {
            let o = &self.origins[origin];
            (o.index, o.person.clone(), o.product)
        };
        let loc = person.loc;
        let slot = Slot {
            at: slot.at,
            loc,
            source: slot.source,
            kind: slot.kind,
            event: None,
        };
        let mut sub = Submission::new(channel_of(slot.source), slot.at);
        self.attribution(&mut sub, &slot, product, None, true);
        // People rarely type their name the same way twice.
        let short = self.chance(0.4);
        if short {
            sub.fields.insert("name".into(), person.first.into());
        } else {
            self.name_fields(&mut sub, &person, slot.source);
        }
        let mut p = person.clone();
        if p.phone.is_some() && p.email.is_some() {
            match self.rng.gen_range(0..3) {
                0 => p.email = None,
                1 => p.phone = None,
                _ => {}
            }
        }
        let respell = self.chance(0.5);
        self.contact_fields(&mut sub, &p, Some(respell));
        sub.fields.insert("country".into(), loc.country().into());
        if let Some(pr) = product {
            sub.fields.insert("product".into(), pr.name.into());
        }
        if slot.source == Source::Phone {
            sub.fields
                .insert("message".into(), self.pick(loc.text().call).into());
        } else if self.chance(0.6) {
            sub.fields
                .insert("message".into(), self.pick(loc.text().repeat).into());
        }
        DemoLead {
            submission: sub,
            steps: Vec::new(),
            repeat_of: Some(index),
        }
    }

    fn junk_like(&mut self, slot: &Slot) -> DemoLead {
        let mut sub = Submission::new(Channel::WebForm, slot.at);
        let product = self
            .chance(0.5)
            .then(|| self.product_for(slot.loc, |_| true));
        self.attribution(&mut sub, slot, product, None, false);
        let (name, spam) = self.pick(&[
            ("test", false),
            ("Test", false),
            ("тест", false),
            ("Тест Тестович", false),
            ("asdf", false),
            ("qwerty", false),
            ("йцукен", false),
            ("aaa", false),
            ("Robertjem", true),
            ("SEO Expert", true),
        ]);
        sub.fields.insert("name".into(), name.into());
        let base = self.pick(&["test", "asdf", "qwerty", "aaa", "spam", "noreply"]);
        let domain = self.pick(&["test.com", "mail.ru", "gmail.com", "example.org", "test.ru"]);
        let email = loop {
            let e = format!("{base}{}@{domain}", self.rng.gen_range(1..100_000));
            if self.used_emails.insert(e.clone()) {
                break e;
            }
        };
        sub.fields.insert("email".into(), email);
        if !spam && self.chance(0.4) {
            let (_, _, raw) = self.phone(slot.loc);
            sub.fields.insert("phone".into(), raw);
        }
        sub.fields
            .insert("country".into(), slot.loc.country().into());
        if let Some(p) = product {
            sub.fields.insert("product".into(), p.name.into());
        }
        let message = if spam {
            Some(self.pick(&[
                "Hello! We can bring your website to the top of Google in 2 weeks. Write to seo-boost@example.org",
                "Earn $5000 a week from home, details at example.org/earn",
            ]))
        } else if self.chance(0.6) {
            Some(self.pick(&["test", "тест", "проверка формы", "asdfasdf", "1234"]))
        } else {
            None
        };
        if let Some(m) = message {
            sub.fields.insert("message".into(), m.into());
        }
        let delay = self.between(10 * MINUTE, 24 * HOUR);
        let at = self.working_time(slot.at + delay, slot.loc);
        let reason = if spam { "Spam" } else { "Test submission" };
        let steps = if at <= self.cfg.anchor {
            vec![DemoStep::Junk {
                reason: reason.into(),
                at,
            }]
        } else {
            Vec::new()
        };
        DemoLead {
            submission: sub,
            steps,
            repeat_of: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------

/// Monday = 0 … Sunday = 6 for a day counted from the Unix epoch (a Thursday).
fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

fn channel_of(source: Source) -> Channel {
    match source {
        Source::Partner => Channel::Partner,
        Source::Expo => Channel::Import,
        Source::Phone => Channel::Manual,
        _ => Channel::WebForm,
    }
}

fn round_to(x: f64, step: f64) -> i64 {
    ((x / step).round().max(1.0) * step) as i64
}

/// An amount as people type it: "150 000" in Russian, Ukrainian and French, "2500" elsewhere.
fn money_text(loc: Loc, major: i64) -> String {
    if !matches!(loc, Loc::Ru | Loc::Ua | Loc::Fr) {
        return major.to_string();
    }
    let reversed: Vec<char> = major.to_string().chars().rev().collect();
    let groups: Vec<String> = reversed
        .chunks(3)
        .map(|g| g.iter().rev().collect())
        .collect();
    groups.into_iter().rev().collect::<Vec<_>>().join(" ")
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn feminine_surname(loc: Loc, last: &str) -> String {
    match loc {
        Loc::Ru => {
            if let Some(stem) = last.strip_suffix("ий") {
                format!("{stem}ая")
            } else if ["ов", "ев", "ёв", "ин", "ын"]
                .iter()
                .any(|s| last.ends_with(s))
            {
                format!("{last}а")
            } else {
                last.to_string()
            }
        }
        Loc::Ua => match last.strip_suffix("ий") {
            Some(stem) => format!("{stem}а"),
            None => last.to_string(),
        },
        _ => last.to_string(),
    }
}

/// Lower-case ASCII for an email address: Cyrillic transliterated (Russian or Ukrainian
/// rules), accents dropped, spaces and punctuation removed.
fn ascii_slug(loc: Loc, s: &str) -> String {
    let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let initial = i == 0 || !chars[i - 1].is_alphabetic();
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let t: &str = match c {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' if loc == Loc::Ua => "h",
            'г' => "g",
            'ґ' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "e",
            'є' if initial => "ye",
            'є' => "ie",
            'ж' => "zh",
            'з' => "z",
            'и' if loc == Loc::Ua => "y",
            'и' => "i",
            'і' => "i",
            'ї' if initial => "yi",
            'ї' => "i",
            'й' if loc == Loc::Ua && !initial => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'э' => "e",
            'ю' if loc == Loc::Ua && !initial => "iu",
            'ю' => "yu",
            'я' if loc == Loc::Ua && !initial => "ia",
            'я' => "ya",
            'à' | 'á' | 'â' | 'ä' => "a",
            'ç' => "c",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ò' | 'ó' | 'ô' | 'ö' => "o",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'ÿ' => "y",
            'œ' => "oe",
            'æ' => "ae",
            _ => "",
        };
        out.push_str(t);
    }
    out
}

fn country_code(loc: Loc) -> &'static str {
    match loc {
        Loc::Ru => "7",
        Loc::Ua => "380",
        Loc::Gb => "44",
        Loc::Us => "1",
        Loc::Nl => "31",
        Loc::Fr => "33",
    }
}

fn phone_styles(loc: Loc) -> usize {
    match loc {
        Loc::Ru | Loc::Ua | Loc::Us => 7,
        Loc::Gb | Loc::Nl => 6,
        Loc::Fr => 5,
    }
}

/// The ways people of a market actually write a mobile number.
fn phone_spelling(loc: Loc, nsn: &str, style: usize) -> String {
    let d = |a: usize, b: usize| nsn.get(a..b).unwrap_or("");
    match loc {
        Loc::Ru => {
            let (a, b, c, e) = (d(0, 3), d(3, 6), d(6, 8), d(8, 10));
            match style {
                0 => format!("8 ({a}) {b}-{c}-{e}"),
                1 => format!("+7 ({a}) {b}-{c}-{e}"),
                2 => format!("+7 {a} {b} {c} {e}"),
                3 => format!("8{nsn}"),
                4 => format!("+7{nsn}"),
                5 => format!("8-{a}-{b}-{c}-{e}"),
                _ => format!("8 {a} {b}{c}{e}"),
            }
        }
        Loc::Ua => {
            let (a, b, c, e) = (d(0, 2), d(2, 5), d(5, 7), d(7, 9));
            match style {
                0 => format!("+380 {a} {b} {c}{e}"),
                1 => format!("+380{nsn}"),
                2 => format!("0{a} {b} {c} {e}"),
                3 => format!("0{nsn}"),
                4 => format!("(0{a}) {b}-{c}-{e}"),
                5 => format!("+38 (0{a}) {b}-{c}-{e}"),
                _ => format!("+38 0{a} {b} {c} {e}"),
            }
        }
        Loc::Gb => {
            let (a, b) = (d(0, 4), d(4, 10));
            match style {
                0 => format!("0{a} {b}"),
                1 => format!("+44 {a} {b}"),
                2 => format!("0{nsn}"),
                3 => format!("+44{nsn}"),
                4 => format!("+44 (0){a} {b}"),
                _ => format!("0{a} {} {}", d(4, 7), d(7, 10)),
            }
        }
        Loc::Us => {
            let (a, b, c) = (d(0, 3), d(3, 6), d(6, 10));
            match style {
                0 => format!("({a}) {b}-{c}"),
                1 => format!("{a}-{b}-{c}"),
                2 => format!("+1 {a} {b} {c}"),
                3 => format!("+1 ({a}) {b}-{c}"),
                4 => nsn.to_string(),
                5 => format!("{a}.{b}.{c}"),
                _ => format!("1-{a}-{b}-{c}"),
            }
        }
        Loc::Nl => {
            let rest = d(1, 9);
            match style {
                0 => format!("06 {rest}"),
                1 => format!("06-{rest}"),
                2 => format!("0{nsn}"),
                3 => format!("+31 6 {rest}"),
                4 => format!("+31{nsn}"),
                _ => format!("06 {} {} {} {}", d(1, 3), d(3, 5), d(5, 7), d(7, 9)),
            }
        }
        Loc::Fr => {
            let pairs = format!("{} {} {} {}", d(1, 3), d(3, 5), d(5, 7), d(7, 9));
            match style {
                0 => format!("0{} {pairs}", d(0, 1)),
                1 => format!("0{nsn}"),
                2 => format!("+33 {} {pairs}", d(0, 1)),
                3 => format!("+33{nsn}"),
                _ => format!("0{}.{}", d(0, 1), pairs.replace(' ', ".")),
            }
        }
    }
}

/// E.164 of a valid number, as the `phonenumber` crate reads it in the given region.
fn parse_e164(raw: &str, region: &str) -> Option<String> {
    let country = phonenumber::country::Id::from_str(region).ok()?;
    let number = phonenumber::parse(Some(country), raw).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::normalize::normalize_phone;
    use crate::intake::{normalize, validate, Outcome, ValidationRules};
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::OnceLock;

    /// 2025-03-14 15:00 UTC, a Friday afternoon.
    const ANCHOR: Millis = 1_741_964_400_000;

    const ALLOWED_FIELDS: &[&str] = &[
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "position",
        "message",
        "product",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "page",
        "referrer",
        "country",
        "language",
        "value",
        "currency",
        "temperature",
    ];

    fn cfg(seed: u64, leads: usize) -> DemoConfig {
        DemoConfig::new(seed, leads, ANCHOR)
    }

    /// The default-size data set, generated once for all tests.
    fn big() -> &'static [DemoLead] {
        static DATA: OnceLock<Vec<DemoLead>> = OnceLock::new();
        DATA.get_or_init(|| generate(&cfg(42, DEFAULT_LEADS)))
    }

    fn field<'a>(l: &'a DemoLead, k: &str) -> Option<&'a str> {
        l.submission.field(k)
    }

    #[test]
    fn interests_leave_no_way_back_and_are_deterministic() {
        let c = cfg(7, 1_000);
        let subs = demo_interests(&c);
        assert_eq!(subs.len(), 40);
        assert_eq!(subs, demo_interests(&c));
        for s in &subs {
            assert!(s.field("phone").is_none(), "{s:?}");
            assert!(s.field("email").is_none_or(|e| !e.contains('.')), "{s:?}");
            assert!(s.received_at <= c.anchor && s.received_at >= c.anchor - SPAN_DAYS * DAY);
        }
        assert!(subs.iter().any(|s| s.field("utm_source") == Some("yandex")));
    }

    #[test]
    fn paid_channels_have_monthly_budgets() {
        let c = cfg(42, DEFAULT_LEADS);
        let spend = demo_spend(&c, big());
        assert_eq!(spend, demo_spend(&c, &generate(&c)), "deterministic");
        let first = chrono::DateTime::from_timestamp_millis(c.anchor - SPAN_DAYS * DAY)
            .unwrap()
            .date_naive();
        let last = chrono::DateTime::from_timestamp_millis(c.anchor)
            .unwrap()
            .date_naive();
        for s in &spend {
            assert!(s.first_day <= s.last_day, "{s:?}");
            assert!(s.first_day >= first && s.last_day <= last, "{s:?}");
            assert!(s.amount.minor > 0);
            assert_eq!(s.amount.currency.as_str(), "RUB");
            assert_ne!(s.medium, "organic");
        }
        let has = |src: &str, med: &str| spend.iter().any(|s| s.source == src && s.medium == med);
        assert!(has("yandex", "cpc"));
        assert!(has("google", "cpc"));
        assert!(has("newsletter", "email"));
        assert!(has("expo", "offline"));
        // Yandex costs about what its submissions cost, 1,400 ₽ each.
        let yandex: i64 = spend
            .iter()
            .filter(|s| s.source == "yandex" && s.medium == "cpc")
            .map(|s| s.amount.minor)
            .sum();
        let submissions = big()
            .iter()
            .filter(|l| {
                field(l, "utm_source") == Some("yandex") && field(l, "utm_medium") == Some("cpc")
            })
            .count() as i64;
        let per = yandex / 100 / submissions;
        assert!((1_120..=1_680).contains(&per), "{per} ₽ per submission");
    }

    fn replay(steps: &[DemoStep]) -> Result<Stage, String> {
        let mut cur = Stage::New;
        for s in steps {
            let to = match s {
                DemoStep::Stage { to, .. } => *to,
                DemoStep::Refuse { .. } => Stage::Refused,
                DemoStep::Junk { .. } => Stage::Junk,
                DemoStep::Convert { .. } => {
                    if !cur.can_convert() {
                        return Err(format!("convert from {cur}"));
                    }
                    cur = Stage::Converted;
                    continue;
                }
                DemoStep::Note { .. } | DemoStep::Call { .. } => continue,
            };
            cur.check_transition(to).map_err(|e| e.to_string())?;
            cur = to;
        }
        Ok(cur)
    }

    #[test]
    fn demo_is_deterministic_per_seed() {
        let a = generate(&cfg(7, 400));
        let b = generate(&cfg(7, 400));
        assert_eq!(a, b);
        let c = generate(&cfg(8, 400));
        assert_ne!(a, c);
        assert_eq!(big(), generate(&cfg(42, DEFAULT_LEADS)).as_slice());
    }

    #[test]
    fn demo_count_is_exact() {
        for n in [0, 1, 2, 10, 333] {
            assert_eq!(generate(&cfg(1, n)).len(), n);
        }
        assert_eq!(big().len(), DEFAULT_LEADS);
    }

    #[test]
    fn demo_dates_are_in_range_and_ordered() {
        let start = ANCHOR - SPAN_DAYS * DAY;
        let leads = big();
        for w in leads.windows(2) {
            assert!(w[0].submission.received_at <= w[1].submission.received_at);
        }
        for l in leads {
            let t0 = l.submission.received_at;
            assert!(t0 >= start && t0 < ANCHOR, "received_at {t0}");
            let mut prev = t0;
            for s in &l.steps {
                assert!(s.at() > t0, "step before the request: {s:?}");
                assert!(s.at() <= ANCHOR, "step after the anchor: {s:?}");
                assert!(s.at() >= prev, "steps out of order: {:?}", l.steps);
                prev = s.at();
            }
        }
        // The last quarter of the span is busier than the first, and weekdays beat weekends.
        let quarter = SPAN_DAYS * DAY / 4;
        let first = leads
            .iter()
            .filter(|l| l.submission.received_at < start + quarter)
            .count();
        let last = leads
            .iter()
            .filter(|l| l.submission.received_at >= ANCHOR - quarter)
            .count();
        assert!(
            last as f64 > first as f64 * 1.2,
            "first {first}, last {last}"
        );
        let weekend = leads
            .iter()
            .filter(|l| weekday(l.submission.received_at.div_euclid(DAY)) >= 5)
            .count();
        assert!(weekend < leads.len() / 5, "weekend {weekend}");
    }

    #[test]
    fn demo_phones_are_valid_for_their_country() {
        let mut spellings = BTreeSet::new();
        for l in big().iter().chain(&generate(&cfg(3, 2_000))) {
            let country = field(l, "country").expect("country");
            if let Some(raw) = field(l, "phone") {
                let p = normalize_phone(raw, country);
                assert!(p.valid, "{raw:?} in {country}: {p:?}");
                let shape: String = raw
                    .chars()
                    .map(|c| if c.is_ascii_digit() { '9' } else { c })
                    .collect();
                spellings.insert(shape);
            }
        }
        assert!(spellings.len() >= 20, "{spellings:?}");
    }

    #[test]
    fn demo_requests_are_leads_for_the_pipeline() {
        for l in big() {
            for k in l.submission.fields.keys() {
                assert!(ALLOWED_FIELDS.contains(&k.as_str()), "field {k}");
            }
            let n = normalize(&l.submission, &Default::default());
            assert!(n.field_errors.is_empty(), "{:?}", n.field_errors);
            let v = validate(
                &n,
                &ValidationRules::default(),
                &crate::intake::Scrub::new(Default::default()),
                &Default::default(),
            );
            assert_eq!(
                v.outcome,
                Outcome::Lead,
                "{:?} {:?}",
                l.submission,
                v.reasons
            );
            if let Some(e) = field(l, "email") {
                assert!(e.is_ascii() && e.contains('@'), "{e}");
            }
            if let (Some(v), Some(c)) = (&n.value, field(l, "currency")) {
                assert_eq!(v.currency.as_str(), c);
                assert!(v.minor > 0);
            }
        }
        let emails: Vec<&str> = big()
            .iter()
            .filter(|l| l.repeat_of.is_none())
            .filter_map(|l| field(l, "email"))
            .map(|e| e.trim())
            .collect();
        let unique: BTreeSet<String> = emails.iter().map(|e| e.to_lowercase()).collect();
        assert_eq!(
            unique.len(),
            emails.len(),
            "emails of different people collide"
        );
    }

    #[test]
    fn demo_has_many_channels() {
        let mut groups: BTreeMap<(Option<&str>, Option<&str>), usize> = BTreeMap::new();
        for l in big() {
            *groups
                .entry((field(l, "utm_source"), field(l, "utm_medium")))
                .or_default() += 1;
        }
        assert!(groups.len() >= 8, "{groups:?}");
        for g in [
            ("google", "cpc"),
            ("yandex", "cpc"),
            ("facebook", "social"),
            ("vk", "social"),
            ("newsletter", "email"),
            ("google", "organic"),
            ("expo", "offline"),
        ] {
            assert!(
                groups.contains_key(&(Some(g.0), Some(g.1))),
                "{g:?} missing"
            );
        }
        assert!(groups.contains_key(&(None, None)));
        let partner: Vec<&DemoLead> = big()
            .iter()
            .filter(|l| l.submission.channel == Channel::Partner)
            .collect();
        assert!(partner.len() > 100);
        for l in partner {
            assert_eq!(l.submission.partner.as_deref(), field(l, "utm_source"));
            assert_eq!(field(l, "utm_medium"), Some("partner"));
        }
    }

    #[test]
    fn demo_steps_follow_the_stage_rules() {
        for l in big().iter().chain(&generate(&cfg(9, 1_500))) {
            let end = replay(&l.steps).unwrap_or_else(|e| panic!("{e}: {:?}", l.steps));
            assert_eq!(end, l.final_stage());
            if l.repeat_of.is_some() {
                assert!(l.steps.is_empty());
            }
        }
    }

    #[test]
    fn a_worked_demo_lead_was_called_before_anything_else() {
        let mut called = 0;
        for l in big() {
            // Pseudo-leads are marked junk on arrival, with nobody calling them.
            let worked = l.steps.iter().any(|s| {
                matches!(
                    s,
                    DemoStep::Stage { .. } | DemoStep::Refuse { .. } | DemoStep::Convert { .. }
                )
            });
            if !worked {
                continue;
            }
            let DemoStep::Call { at } = l.steps[0] else {
                panic!("the first step is not a call: {:?}", l.steps);
            };
            assert!(l.steps.iter().all(|s| s.at() >= at), "{:?}", l.steps);
            assert!(at > l.submission.received_at, "{:?}", l.steps);
            called += 1;
        }
        assert!(called > DEFAULT_LEADS / 2, "{called}");
    }

    #[test]
    fn demo_stage_mix_is_plausible() {
        let leads = big();
        let old: Vec<&DemoLead> = leads
            .iter()
            .filter(|l| l.repeat_of.is_none())
            .filter(|l| l.submission.received_at < ANCHOR - 75 * DAY)
            .collect();
        let share = |s: Stage| {
            old.iter().filter(|l| l.final_stage() == s).count() as f64 / old.len() as f64
        };
        let (conv, refused, junk) = (
            share(Stage::Converted),
            share(Stage::Refused),
            share(Stage::Junk),
        );
        assert!((0.09..0.17).contains(&conv), "converted {conv}");
        assert!((0.19..0.31).contains(&refused), "refused {refused}");
        assert!((0.03..0.08).contains(&junk), "junk {junk}");
        for s in [Stage::Working, Stage::Mql, Stage::Sql] {
            assert!(share(s) > 0.05, "{s} {}", share(s));
        }

        // Frozen refusals: some freezes are over, some still run.
        let freezes: Vec<Millis> = leads
            .iter()
            .flat_map(|l| &l.steps)
            .filter_map(|s| match s {
                DemoStep::Refuse { freeze_until, .. } => *freeze_until,
                _ => None,
            })
            .collect();
        assert!(freezes.iter().any(|&f| f < ANCHOR));
        assert!(freezes.iter().any(|&f| f > ANCHOR));

        // The newest requests are mostly still untouched.
        let newest: Vec<&DemoLead> = leads
            .iter()
            .filter(|l| l.repeat_of.is_none() && l.submission.received_at > ANCHOR - 12 * HOUR)
            .collect();
        let untouched = newest
            .iter()
            .filter(|l| l.final_stage() == Stage::New)
            .count();
        assert!(
            untouched * 2 > newest.len(),
            "{untouched} of {}",
            newest.len()
        );

        // Nothing older than two weeks waits untouched: a team works its leads.
        let stale: Vec<&DemoLead> = leads
            .iter()
            .filter(|l| {
                l.repeat_of.is_none()
                    && l.submission.received_at < ANCHOR - 14 * DAY
                    && l.final_stage() == Stage::New
            })
            .collect();
        assert!(stale.is_empty(), "{} leads new for weeks", stale.len());

        // Whatever the hour and weekday of the anchor, the last day's requests are mostly new.
        for shift in [0, 17 * HOUR, 2 * DAY + 5 * HOUR, 3 * DAY + 18 * HOUR] {
            let anchor = ANCHOR + shift;
            let leads = generate(&DemoConfig::new(5, 3_000, anchor));
            let newest: Vec<&DemoLead> = leads
                .iter()
                .filter(|l| l.repeat_of.is_none() && l.submission.received_at > anchor - DAY)
                .collect();
            let untouched = newest
                .iter()
                .filter(|l| l.final_stage() == Stage::New)
                .count();
            assert!(
                untouched * 2 > newest.len(),
                "anchor +{shift}: {untouched} of {}",
                newest.len()
            );
        }

        // Deals in the market's currency, in whole units.
        for l in leads {
            for s in &l.steps {
                if let DemoStep::Convert { amount, title, .. } = s {
                    let country = field(l, "country").unwrap();
                    let want = match country {
                        "RU" => "RUB",
                        "UA" => "UAH",
                        "GB" => "GBP",
                        "US" => "USD",
                        _ => "EUR",
                    };
                    assert_eq!(amount.currency.as_str(), want);
                    assert!(amount.minor > 0 && amount.minor % 100 == 0);
                    assert!(!title.is_empty());
                }
            }
        }
    }

    #[test]
    fn demo_repeats_and_junk() {
        let leads = big();
        let repeats: Vec<(usize, &DemoLead)> = leads
            .iter()
            .enumerate()
            .filter(|(_, l)| l.repeat_of.is_some())
            .collect();
        let share = repeats.len() as f64 / leads.len() as f64;
        assert!((0.015..0.045).contains(&share), "repeats {share}");
        for (i, r) in repeats {
            let o = &leads[r.repeat_of.unwrap()];
            assert!(r.repeat_of.unwrap() < i && o.repeat_of.is_none());
            assert_eq!(field(r, "product"), field(o, "product"));
            assert_eq!(field(r, "country"), field(o, "country"));
            let country = field(o, "country").unwrap();
            let e164 =
                |l: &DemoLead| field(l, "phone").and_then(|p| normalize_phone(p, country).e164);
            let same_phone = e164(r).is_some() && e164(r) == e164(o);
            let same_email = field(r, "email").is_some()
                && field(r, "email").map(str::to_lowercase)
                    == field(o, "email").map(str::to_lowercase);
            assert!(
                same_phone || same_email,
                "{:?} vs {:?}",
                r.submission,
                o.submission
            );
            // Still open when the person asks again, so dedup makes it a touch.
            let before: Vec<DemoStep> = o
                .steps
                .iter()
                .filter(|s| s.at() <= r.submission.received_at)
                .cloned()
                .collect();
            let stage = replay(&before).unwrap();
            assert!(stage.is_open(), "{stage}");
            assert!(r.submission.received_at - o.submission.received_at <= 45 * DAY);
        }
        let junk_like = leads
            .iter()
            .filter(|l| {
                l.steps.iter().any(
                    |s| matches!(s, DemoStep::Junk { reason, .. } if reason == "Test submission"),
                )
            })
            .count();
        assert!((20..100).contains(&junk_like), "junk-looking {junk_like}");
    }

    #[test]
    fn demo_markets_and_languages() {
        let mut countries = BTreeMap::new();
        let mut languages = BTreeSet::new();
        for l in big() {
            *countries.entry(field(l, "country").unwrap()).or_insert(0) += 1;
            if let Some(lang) = field(l, "language") {
                languages.insert(lang);
            }
        }
        for c in ["RU", "UA", "GB", "US", "NL", "FR"] {
            assert!(
                countries.get(c).copied().unwrap_or(0) > 200,
                "{countries:?}"
            );
        }
        for lang in ["ru", "uk", "en", "nl", "fr"] {
            assert!(languages.contains(lang), "{languages:?}");
        }
        // Names are in the market's script; emails of Cyrillic names are transliterated.
        let ua = big()
            .iter()
            .find(|l| field(l, "country") == Some("UA") && field(l, "last_name").is_some())
            .unwrap();
        let cyrillic = |s: &str| {
            s.chars().all(|c| {
                matches!(
                    c,
                    'А'..='я' | 'і' | 'ї' | 'є' | 'ґ' | 'І' | 'Є' | 'ё' | '\''
                )
            })
        };
        assert!(cyrillic(field(ua, "last_name").unwrap()));
        assert_eq!(ascii_slug(Loc::Ua, "Юлія"), "yuliia");
        assert_eq!(ascii_slug(Loc::Ua, "Сергій"), "serhii");
        assert_eq!(ascii_slug(Loc::Ru, "Фёдорова"), "fedorova");
        assert_eq!(ascii_slug(Loc::Ru, "Щербаков"), "shcherbakov");
        assert_eq!(ascii_slug(Loc::Nl, "van den Berg"), "vandenberg");
        assert_eq!(ascii_slug(Loc::Fr, "Hélène"), "helene");
        assert_eq!(feminine_surname(Loc::Ru, "Островский"), "Островская");
        assert_eq!(feminine_surname(Loc::Ru, "Соловьёв"), "Соловьёва");
        assert_eq!(feminine_surname(Loc::Ua, "Яворський"), "Яворська");
        assert_eq!(feminine_surname(Loc::Ua, "Шевченко"), "Шевченко");
    }

    #[test]
    fn demo_money_text() {
        assert_eq!(money_text(Loc::Ru, 150_000), "150 000");
        assert_eq!(money_text(Loc::Fr, 2_500), "2 500");
        assert_eq!(money_text(Loc::Ru, 500), "500");
        assert_eq!(money_text(Loc::Ua, 1_234_567), "1 234 567");
        assert_eq!(money_text(Loc::Us, 2_500), "2500");
    }

    #[test]
    fn demo_team_roles() {
        let t = team();
        let count = |r: Role| t.iter().filter(|p| p.role == r.as_str()).count();
        assert_eq!(count(Role::Admin), 1);
        assert_eq!(count(Role::SalesManager), 1);
        assert_eq!(count(Role::Salesperson), 5);
        assert_eq!(count(Role::Marketer), 1);
        let emails: BTreeSet<&str> = t.iter().map(|p| p.email.as_str()).collect();
        assert_eq!(emails.len(), t.len());
        for p in &t {
            assert!(Role::parse(p.role).is_some());
        }
    }
}
