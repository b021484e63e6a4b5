-- Predictive conversion score: trained models (the newest is current) and each lead's probability
-- of conversion in parts per million (-1: not scored), an integer so that lists sort and page by it.
CREATE TABLE conversion_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    format INTEGER NOT NULL,
    trained_at INTEGER NOT NULL,
    training_size INTEGER NOT NULL,
    auc REAL NOT NULL,
    baseline_auc REAL NOT NULL,
    model TEXT NOT NULL
);

ALTER TABLE leads ADD COLUMN conversion_ppm INTEGER NOT NULL DEFAULT -1;
CREATE INDEX leads_conversion ON leads(conversion_ppm DESC, created_at DESC, id DESC) WHERE merged_into IS NULL;
