-- Capture everywhere: form definitions (fields, quiz, texts, popup, lead magnet, landing page,
-- A/B variants) as JSON, the landing page's address, the kind of a lead, quiz answers and the
-- consent text on touches, and the widget's events (views, submits, downloads) per variant.
ALTER TABLE forms ADD COLUMN definition TEXT NOT NULL DEFAULT '{}';
ALTER TABLE forms ADD COLUMN slug TEXT;
CREATE UNIQUE INDEX forms_slug ON forms(slug);

ALTER TABLE leads ADD COLUMN kind TEXT NOT NULL DEFAULT 'request';

ALTER TABLE touches ADD COLUMN answers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE touches ADD COLUMN consent_text TEXT;
ALTER TABLE touches ADD COLUMN variant TEXT;

CREATE TABLE form_events (
    id BIGSERIAL PRIMARY KEY,
    form_id BIGINT NOT NULL REFERENCES forms(id),
    variant TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    visitor_id TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX form_events_form ON form_events(form_id, kind, variant);
