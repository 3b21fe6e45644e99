-- A trigram full-text index over the documents' values, kept by triggers in the same
-- transaction as every write, so a list's `q` reads the few documents that can contain the
-- text instead of every document of the tenant. It only narrows: the list still applies the
-- exact `q` rule (any string, number or boolean containing the text, ASCII case ignored) to
-- what it finds, so the answers are the same as a full scan's. Contentless and without
-- positions (detail = none): the index keeps only which trigrams each document has, keyed by
-- its rowid, which halves the cost of indexing a write; a search asks for all of the text's
-- trigrams, a superset of the documents that contain it.
--
-- Finance operations are left out: they are the high-volume write (indexing tripled the cost
-- of a create) and their `q` reads the collection as before.
CREATE VIRTUAL TABLE documents_search USING fts5 (
    body, content = '', contentless_delete = 1, detail = none, tokenize = 'trigram'
);

-- The searchable text of a document: its scalar values, one per line. Inserting into this
-- always-empty view runs the trigger below, the one place that knows how.
CREATE VIEW documents_search_change (doc_rowid, payload) AS SELECT NULL, NULL WHERE 0;

CREATE TRIGGER documents_search_put INSTEAD OF INSERT ON documents_search_change
BEGIN
    INSERT INTO documents_search (rowid, body)
    SELECT NEW.doc_rowid, group_concat(
        CASE j.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(j.atom AS TEXT) END, char(10))
    FROM json_tree(NEW.payload) AS j
    WHERE j.type IN ('text', 'integer', 'real', 'true', 'false');
END;

CREATE TRIGGER documents_search_on_insert AFTER INSERT ON documents
    WHEN NEW.collection <> 'finance_operations'
BEGIN
    INSERT INTO documents_search_change VALUES (NEW.rowid, NEW.payload);
END;

CREATE TRIGGER documents_search_on_delete AFTER DELETE ON documents
    WHEN OLD.collection <> 'finance_operations'
BEGIN
    DELETE FROM documents_search WHERE rowid = OLD.rowid;
END;

CREATE TRIGGER documents_search_on_update AFTER UPDATE ON documents
    WHEN NEW.collection <> 'finance_operations' OR OLD.collection <> 'finance_operations'
BEGIN
    DELETE FROM documents_search WHERE rowid = OLD.rowid;
    INSERT INTO documents_search_change SELECT NEW.rowid, NEW.payload WHERE NEW.collection <> 'finance_operations';
END;

-- The documents written before this migration.
INSERT INTO documents_search_change SELECT rowid, payload FROM documents WHERE collection <> 'finance_operations';
