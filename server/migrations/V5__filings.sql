-- Monthly statistics of administrative dossiers, as the public-service portal counts
-- them: per level (`c:<commune>` or `p:<province>` for its own agencies) and month
-- (`YYYY-MM`), the record as JSON.
CREATE TABLE filings (level TEXT NOT NULL, month TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (level, month));
