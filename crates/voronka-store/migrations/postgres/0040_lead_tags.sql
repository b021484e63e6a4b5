-- A team's own labels on leads, kept as first written and compared case-folded (tag_key).
CREATE TABLE lead_tags (
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    tag TEXT NOT NULL,
    tag_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (lead_id, tag_key)
);
-- The lead list's filter by tag, and the tags in use read from the index alone.
CREATE INDEX lead_tags_key ON lead_tags (tag_key, lead_id, tag);
