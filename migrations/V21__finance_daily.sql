-- Daily finance aggregates, kept by triggers in the same transaction as every write to a
-- finance operation (any path: create, update, delete, payload rewrite, import), so the daily
-- stats and the gold price history read a few rows per day instead of every operation.
--
-- Each sum is kept as two floats, hi + lo (an error-free running sum: lo holds what rounding
-- took off hi), so taking an amount out again leaves no residue and hi + lo is the exact sum
-- rounded once, as SQLite's own SUM gives it. A row goes when its count drops to 0.

-- The UTC day of an operation: its numeric `date` (ms), else its `created_at`.
ALTER TABLE documents ADD COLUMN day GENERATED ALWAYS AS (
    date(COALESCE(CASE WHEN typeof(date) IN ('integer', 'real') THEN date END, created_at) / 1000, 'unixepoch')
) VIRTUAL;

-- Per day and currency ('' when none): operations, expenses and everything else (revenue).
CREATE TABLE finance_day_money (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    currency   TEXT NOT NULL,
    n          INTEGER NOT NULL,
    exp_hi     REAL NOT NULL,
    exp_lo     REAL NOT NULL,
    rev_hi     REAL NOT NULL,
    rev_lo     REAL NOT NULL,
    PRIMARY KEY (tenant_id, day, currency)
) WITHOUT ROWID;

-- Per day and non-empty bot id: operations naming that bot (the day's active bots are its rows).
CREATE TABLE finance_day_bots (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    bot_id     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, bot_id)
) WITHOUT ROWID;

-- Per day and project: gold income.
CREATE TABLE finance_day_gold (
    tenant_id   TEXT NOT NULL,
    day         TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    n           INTEGER NOT NULL,
    hi          REAL NOT NULL,
    lo          REAL NOT NULL,
    PRIMARY KEY (tenant_id, day, project_id)
) WITHOUT ROWID;

-- Per day: sales with a positive numeric gold price, and the sum of those prices.
CREATE TABLE finance_day_prices (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    n          INTEGER NOT NULL,
    hi         REAL NOT NULL,
    lo         REAL NOT NULL,
    PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;

-- One operation added to (sign 1) or taken out of (sign -1) the aggregates. Inserting into
-- this always-empty view runs the trigger below, the one place that knows the rules.
CREATE VIEW finance_day_change (tenant_id, day, payload, sign) AS SELECT NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER finance_day_apply INSTEAD OF INSERT ON finance_day_change
BEGIN
    INSERT INTO finance_day_money (tenant_id, day, currency, n, exp_hi, exp_lo, rev_hi, rev_lo)
    SELECT NEW.tenant_id, NEW.day, COALESCE(op.currency, ''), NEW.sign,
           CASE WHEN op.type = 'expense' THEN op.amount ELSE 0.0 END, 0.0,
           CASE WHEN op.type = 'expense' THEN 0.0 ELSE op.amount END, 0.0
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + excluded.n,
        exp_hi = exp_hi + excluded.exp_hi,
        exp_lo = exp_lo + ((exp_hi - ((exp_hi + excluded.exp_hi) - ((exp_hi + excluded.exp_hi) - exp_hi))) + (excluded.exp_hi - ((exp_hi + excluded.exp_hi) - exp_hi))),
        rev_hi = rev_hi + excluded.rev_hi,
        rev_lo = rev_lo + ((rev_hi - ((rev_hi + excluded.rev_hi) - ((rev_hi + excluded.rev_hi) - rev_hi))) + (excluded.rev_hi - ((rev_hi + excluded.rev_hi) - rev_hi)));

    INSERT INTO finance_day_bots (tenant_id, day, bot_id, n)
    SELECT NEW.tenant_id, NEW.day, op.bot_id, NEW.sign
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE typeof(op.bot_id) = 'text' AND op.bot_id <> ''
    ON CONFLICT DO UPDATE SET n = n + excluded.n;

    INSERT INTO finance_day_gold (tenant_id, day, project_id, n, hi, lo)
    SELECT NEW.tenant_id, NEW.day, op.project_id, NEW.sign, op.amount, 0.0
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE op.type = 'income' AND op.currency = 'gold' AND typeof(op.project_id) = 'text'
    ON CONFLICT DO UPDATE SET n = n + excluded.n,
        hi = hi + excluded.hi,
        lo = lo + ((hi - ((hi + excluded.hi) - ((hi + excluded.hi) - hi))) + (excluded.hi - ((hi + excluded.hi) - hi)));

    INSERT INTO finance_day_prices (tenant_id, day, n, hi, lo)
    SELECT NEW.tenant_id, NEW.day, NEW.sign, NEW.sign * op.price, 0.0
    FROM (SELECT
            json_extract(NEW.payload, '$.type') AS type,
            json_extract(NEW.payload, '$.category') AS category,
            json_extract(NEW.payload, '$.currency') AS currency,
            NEW.sign * COALESCE(json_extract(NEW.payload, '$.amount'), 0) AS amount,
            json_extract(NEW.payload, '$.bot_id') AS bot_id,
            json_extract(NEW.payload, '$.project_id') AS project_id,
            json_type(NEW.payload, '$.gold_price_at_time') AS price_type,
            json_extract(NEW.payload, '$.gold_price_at_time') AS price) AS op
    WHERE op.type = 'income' AND op.category = 'sale' AND op.price_type IN ('integer', 'real') AND op.price > 0
    ON CONFLICT DO UPDATE SET n = n + excluded.n,
        hi = hi + excluded.hi,
        lo = lo + ((hi - ((hi + excluded.hi) - ((hi + excluded.hi) - hi))) + (excluded.hi - ((hi + excluded.hi) - hi)));

    DELETE FROM finance_day_money WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
    DELETE FROM finance_day_bots WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
    DELETE FROM finance_day_gold WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
    DELETE FROM finance_day_prices WHERE NEW.sign < 0 AND tenant_id = NEW.tenant_id AND day = NEW.day AND n = 0;
END;

CREATE TRIGGER finance_day_on_insert AFTER INSERT ON documents WHEN NEW.collection = 'finance_operations'
BEGIN
    INSERT INTO finance_day_change VALUES (NEW.tenant_id, NEW.day, NEW.payload, 1);
END;

CREATE TRIGGER finance_day_on_delete AFTER DELETE ON documents WHEN OLD.collection = 'finance_operations'
BEGIN
    INSERT INTO finance_day_change VALUES (OLD.tenant_id, OLD.day, OLD.payload, -1);
END;

CREATE TRIGGER finance_day_on_update AFTER UPDATE ON documents
    WHEN OLD.collection = 'finance_operations' OR NEW.collection = 'finance_operations'
BEGIN
    INSERT INTO finance_day_change SELECT OLD.tenant_id, OLD.day, OLD.payload, -1
        WHERE OLD.collection = 'finance_operations';
    INSERT INTO finance_day_change SELECT NEW.tenant_id, NEW.day, NEW.payload, 1
        WHERE NEW.collection = 'finance_operations';
END;

-- The operations written before this migration.
INSERT INTO finance_day_change
SELECT tenant_id, day, payload, 1 FROM documents WHERE collection = 'finance_operations';
