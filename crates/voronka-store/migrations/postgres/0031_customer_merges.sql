-- A customer merged into another: its deals and converted leads moved, the row gone; this keeps
-- where it went (old links lead there) and what the card says about it.
CREATE TABLE customer_merges (
    id BIGSERIAL PRIMARY KEY,
    from_id BIGINT NOT NULL,
    into_id BIGINT NOT NULL REFERENCES customers(id),
    from_name TEXT NOT NULL,
    deals BIGINT NOT NULL,
    leads BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX customer_merges_from ON customer_merges(from_id);
CREATE INDEX customer_merges_into ON customer_merges(into_id);
-- Customers of the same name are offered as look-alikes on a customer's card.
CREATE INDEX customers_name ON customers(name);
