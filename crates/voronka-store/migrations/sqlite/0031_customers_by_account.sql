-- A customer that is a company is found by its account, so that its people's deals meet in it.
CREATE INDEX customers_account ON customers(account_id);
