package db

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Functions are deployed one at a time, so a binary must run on a schema
// newer than its own: migrations expand first and contract later. Each
// migration's first line says whether code older than it can run on the
// schema it makes:
//
//	-- compatible: yes (why)
//	-- compatible: no (what breaks, and what to deploy first)
//
// The migrate step records these marks in compatTable; a binary starts on
// a newer schema unless a migration past its own version is marked no.
const compatTable = "schema_compat"

// Mark is one migration's compatibility with older code.
type Mark struct {
	Version    int32
	Name       string
	Compatible bool
	Note       string // the mark's words in parentheses
	SQL        string
}

var markLine = regexp.MustCompile(`^-- compatible: (yes|no)\b\s*(?:\((.*)\))?\s*$`)

// Marks reads the marks of the embedded migrations, in order.
func Marks() ([]Mark, error) { return readMarks(migrations()) }

func readMarks(fsys fs.FS) ([]Mark, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var marks []Mark
	for _, name := range names {
		n, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: its name must start with its number", name)
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		first, _ := bufio.NewReader(strings.NewReader(string(raw))).ReadString('\n')
		m := markLine.FindStringSubmatch(strings.TrimSpace(first))
		if m == nil {
			return nil, fmt.Errorf("migration %s: its first line must be \"-- compatible: yes (why)\" or \"-- compatible: no (why)\"", name)
		}
		marks = append(marks, Mark{Version: int32(version), Name: name, Compatible: m[1] == "yes", Note: m[2], SQL: string(raw)})
	}
	return marks, nil
}

// recordMarks writes the marks this binary knows into the database, for
// older binaries to read.
func recordMarks(ctx context.Context, conn *pgx.Conn, marks []Mark) error {
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+compatTable+` (
		version integer PRIMARY KEY, name text NOT NULL, compatible boolean NOT NULL, note text NOT NULL DEFAULT '')`); err != nil {
		return err
	}
	for _, m := range marks {
		if _, err := conn.Exec(ctx, `INSERT INTO `+compatTable+` (version, name, compatible, note) VALUES ($1, $2, $3, $4)
			ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, compatible = EXCLUDED.compatible, note = EXCLUDED.note`,
			m.Version, m.Name, m.Compatible, m.Note); err != nil {
			return fmt.Errorf("record the mark of %s: %w", m.Name, err)
		}
	}
	return nil
}

// checkNewer returns an error when a migration past want is marked
// incompatible with older code, naming it and what it says.
func checkNewer(ctx context.Context, conn *pgx.Conn, have, want int32) error {
	var name, note string
	err := conn.QueryRow(ctx, `SELECT name, note FROM `+compatTable+`
		WHERE version > $1 AND version <= $2 AND NOT compatible ORDER BY version LIMIT 1`, want, have).Scan(&name, &note)
	switch {
	case err == pgx.ErrNoRows:
		return nil
	case err != nil:
		return fmt.Errorf("read the compatibility of schema version %d with this binary (%d): %w", have, want, err)
	}
	return fmt.Errorf("database schema is at version %d; migration %s is not compatible with this binary (version %d): %s. Deploy a binary of version %d or later",
		have, name, want, note, have)
}
