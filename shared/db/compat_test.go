package db_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"bandarchive/shared/db"
	"bandarchive/shared/db/dbtest"
)

// incompatible are the statements after which code written for the schema
// before can break: it reads or writes what is gone, renamed or changed,
// or inserts rows without a value that is now required.
var incompatible = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\bDROP\s+(TABLE|COLUMN|CONSTRAINT|VIEW|TYPE|FUNCTION)\b`),
	regexp.MustCompile(`(?i)\bALTER\s+TABLE\s+\S+\s+DROP\s+(?:COLUMN\s+)?\w`),
	regexp.MustCompile(`(?i)\bRENAME\b`),
	regexp.MustCompile(`(?i)\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b`),
	regexp.MustCompile(`(?i)\bSET\s+NOT\s+NULL\b`),
	regexp.MustCompile(`(?i)\bADD\s+(?:COLUMN\s+)?[^,;]*\bNOT\s+NULL\b`),
}

// TestMigrationMarksMatchTheirSQL: every migration says whether older code
// can run on it, and one whose SQL contracts the schema says no.
func TestMigrationMarksMatchTheirSQL(t *testing.T) {
	marks, err := db.Marks()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range marks {
		if m.Version != int32(i+1) {
			t.Errorf("%s: version %d, want %d: migrations are numbered without gaps", m.Name, m.Version, i+1)
		}
		if m.Note == "" {
			t.Errorf("%s: the mark gives no reason in parentheses", m.Name)
		}
		if stmt := contracting(m.SQL); stmt != "" && m.Compatible {
			t.Errorf("%s is marked compatible with older code, but %q contracts the schema: mark it \"-- compatible: no (why)\" and deploy it after every function", m.Name, stmt)
		}
	}
}

// contracting returns the first statement of sql after which older code
// may break, "" when there is none.
func contracting(sql string) string {
	body := stripComments(sql)
	for _, re := range incompatible {
		stmt := re.FindString(body)
		if stmt == "" {
			continue
		}
		// A new NOT NULL column with a default is filled for old code.
		if strings.Contains(strings.ToUpper(stmt), "ADD") && strings.Contains(strings.ToUpper(lineOf(body, stmt)), "DEFAULT") {
			continue
		}
		return stmt
	}
	return ""
}

func TestContractingStatementsAreFound(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"ALTER TABLE recordings DROP COLUMN peaks;", true},
		{"ALTER TABLE recordings DROP peaks;", true},
		{"DROP TABLE uploads;", true},
		{"ALTER TABLE users RENAME COLUMN email TO address;", true},
		{"ALTER TABLE recordings ALTER COLUMN title TYPE varchar(100);", true},
		{"ALTER TABLE recordings ALTER COLUMN venue SET NOT NULL;", true},
		{"ALTER TABLE recordings ADD COLUMN rating int NOT NULL;", true},
		{"ALTER TABLE recordings ADD COLUMN rating int NOT NULL DEFAULT 0;", false},
		{"ALTER TABLE recordings ADD COLUMN rating int;", false},
		{"CREATE TABLE things (id uuid PRIMARY KEY, name text NOT NULL);", false},
		{"CREATE INDEX a ON b (c); -- DROP TABLE in a comment", false},
	}
	for _, tt := range tests {
		if got := contracting(tt.sql) != ""; got != tt.want {
			t.Errorf("contracting(%q): %v, want %v", tt.sql, got, tt.want)
		}
	}
}

func stripComments(sql string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(sql, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func lineOf(body, s string) string {
	i := strings.Index(body, s)
	end := strings.IndexAny(body[i:], ",;")
	if end < 0 {
		return body[i:]
	}
	return body[i : i+end]
}

// TestABinaryOnANewerSchema: a binary starts on a schema one migration
// newer than its own when that migration is marked compatible, and
// refuses, naming it, when it is not; on an older schema it asks for the
// migrate step.
func TestABinaryOnANewerSchema(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := d.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.CheckSchema(ctx); err != nil {
		t.Fatalf("on its own schema: %v", err)
	}
	exec(`UPDATE schema_version SET version = version + 1`)
	exec(`INSERT INTO schema_compat (version, name, compatible, note)
		SELECT version, 'next_expand.sql', true, 'a new table' FROM schema_version`)
	if err := d.CheckSchema(ctx); err != nil {
		t.Fatalf("on a newer, compatible schema: %v, want it to start", err)
	}
	exec(`UPDATE schema_compat SET name = 'next_contract.sql', compatible = false, note = 'drops recordings.peaks'
		WHERE version = (SELECT version FROM schema_version)`)
	err := d.CheckSchema(ctx)
	if err == nil || !strings.Contains(err.Error(), "next_contract.sql") || !strings.Contains(err.Error(), "drops recordings.peaks") {
		t.Fatalf("on a newer, incompatible schema: %v, want a refusal naming the migration and why", err)
	}
	exec(`UPDATE schema_version SET version = version - 2`)
	if err := d.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "run the migrate step") {
		t.Fatalf("on an older schema: %v, want the migrate step asked for", err)
	}
}
