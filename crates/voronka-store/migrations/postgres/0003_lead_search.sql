-- Substring search over leads (name, email, phone, company, product) through a trigram index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX leads_search_trgm ON leads USING gin (search_text gin_trgm_ops);
