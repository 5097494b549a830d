-- compatible: yes (a nullable column)
-- Peaks of each recording's waveform (one byte per column), filled in the
-- background after upload; NULL while unknown or for formats that cannot
-- be decoded.
ALTER TABLE recordings ADD COLUMN peaks bytea;
