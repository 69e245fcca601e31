-- A counter that moves with every change to the incidents and their evidence, by this
-- process or any other (an admin's sqlite3 shell too). What is built from the open incidents
-- (the warnings on every page of the approval queue) is read again only when it moves, not
-- after every commit: after each approval, a dozen open listings were built again at once and
-- each read the open incidents again (docs/performance.md).
CREATE TABLE incidents_version (n INTEGER NOT NULL);
INSERT INTO incidents_version (n) VALUES (0);

CREATE TRIGGER incidents_version_insert AFTER INSERT ON incidents
BEGIN UPDATE incidents_version SET n = n + 1; END;
CREATE TRIGGER incidents_version_update AFTER UPDATE ON incidents
BEGIN UPDATE incidents_version SET n = n + 1; END;
CREATE TRIGGER incidents_version_delete AFTER DELETE ON incidents
BEGIN UPDATE incidents_version SET n = n + 1; END;

CREATE TRIGGER incident_evidence_version_insert AFTER INSERT ON incident_evidence
BEGIN UPDATE incidents_version SET n = n + 1; END;
CREATE TRIGGER incident_evidence_version_update AFTER UPDATE ON incident_evidence
BEGIN UPDATE incidents_version SET n = n + 1; END;
CREATE TRIGGER incident_evidence_version_delete AFTER DELETE ON incident_evidence
BEGIN UPDATE incidents_version SET n = n + 1; END;
