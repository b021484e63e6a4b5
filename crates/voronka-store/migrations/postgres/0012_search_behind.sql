-- PostgreSQL's trigram index (GIN, with its own pending list) stays in the transaction; nothing changes.
SELECT 1;
