-- Predictive conversion score: trained models (the newest is current) and each lead's probability
-- of conversion in parts per million (-1: not scored), an integer so that lists sort and page by it.
CREATE TABLE conversion_models (
    id BIGSERIAL PRIMARY KEY,
    format BIGINT NOT NULL,
    trained_at BIGINT NOT NULL,
    training_size BIGINT NOT NULL,
    auc DOUBLE PRECISION NOT NULL,
    baseline_auc DOUBLE PRECISION NOT NULL,
    model TEXT NOT NULL
);

ALTER TABLE leads ADD COLUMN conversion_ppm BIGINT NOT NULL DEFAULT -1;
CREATE INDEX leads_conversion ON leads(conversion_ppm DESC, created_at DESC, id DESC) WHERE merged_into IS NULL;
