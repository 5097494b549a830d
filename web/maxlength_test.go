package web_test

import (
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"bandarchive/shared/metadata"
)

// limits are the server's limits for the fields a page lets a person type,
// by the form field's name (the same names as in the API).
var limits = map[string]int{
	"title":        metadata.MaxTitle,
	"venue":        metadata.MaxVenue,
	"source":       metadata.MaxSource,
	"notes":        metadata.MaxNotes,
	"display_name": metadata.MaxDisplayName,
}

var (
	// comment matches an HTML comment, so a commented-out field is not read.
	comment = regexp.MustCompile(`(?s)<!--.*?-->`)
	// field matches an <input> or <textarea> start tag; an attribute's
	// quoted value may hold ">".
	field = regexp.MustCompile(`(?i)<(input|textarea)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>` + "`" + `]+))?)*)\s*/?>`)
	// attr matches one attribute of such a tag, with or without a value.
	attr = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
)

// formField is one <input> or <textarea> of a page.
type formField struct {
	where string            // file:line
	tag   string            // input or textarea
	attrs map[string]string // names lower-cased, values unescaped
}

// formFields reads the inputs and textareas of one page; shown is the
// page's name in messages.
func formFields(t *testing.T, path, shown string) []formField {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Blank out comments, keeping their line breaks so line numbers hold.
	src := comment.ReplaceAllStringFunc(string(b), func(c string) string {
		return strings.Repeat("\n", strings.Count(c, "\n"))
	})
	var out []formField
	for _, m := range field.FindAllStringSubmatchIndex(src, -1) {
		f := formField{
			where: shown + ":" + strconv.Itoa(1+strings.Count(src[:m[0]], "\n")),
			tag:   strings.ToLower(src[m[2]:m[3]]),
			attrs: map[string]string{},
		}
		for _, a := range attr.FindAllStringSubmatch(src[m[4]:m[5]], -1) {
			name := strings.ToLower(a[1])
			if _, seen := f.attrs[name]; seen {
				continue // as in a browser, the first of a repeated attribute wins
			}
			f.attrs[name] = html.UnescapeString(a[2] + a[3] + a[4])
		}
		out = append(out, f)
	}
	return out
}

// TestMaxLengthMatchesServer checks that every field of web/ whose value
// the server limits lets a person type exactly that much: a smaller
// maxlength refuses what the archive would take, and a larger one (or
// none) lets a person type text the archive then refuses.
func TestMaxLengthMatchesServer(t *testing.T) {
	var pages []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".html") {
			pages = append(pages, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no .html files under web/")
	}

	found := map[string]int{}
	for _, page := range pages {
		for _, f := range formFields(t, page, filepath.ToSlash(filepath.Join("web", page))) {
			name := f.attrs["name"]
			want, limited := limits[name]
			if !limited {
				continue
			}
			found[name]++
			got, ok := f.attrs["maxlength"]
			if !ok {
				t.Errorf("%s: <%s name=%q> has no maxlength, want maxlength=\"%d\"", f.where, f.tag, name, want)
				continue
			}
			if n, err := strconv.Atoi(strings.TrimSpace(got)); err != nil || n != want {
				t.Errorf("%s: <%s name=%q> maxlength: got %q, want \"%d\"", f.where, f.tag, name, got, want)
			}
		}
	}
	for name := range limits {
		if found[name] == 0 {
			t.Errorf("no <input> or <textarea> named %q in any page under web/; the test would pass without checking it", name)
		}
	}
}

// TestFormFields checks the reader of tags the test above relies on.
func TestFormFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "page.html")
	page := `<form>
<!-- <input name="title" maxlength="1"> -->
<INPUT Name='venue' data-x="a > b" MAXLENGTH=200 required>
<textarea
  name="notes"
  maxlength="10000"></textarea>
<input name="source" maxlength="100" name="title"/>
<input name="display_&#110;ame">
</form>`
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		t.Fatal(err)
	}
	got := formFields(t, path, "page.html")
	want := []struct {
		line, tag, name, maxlength string
	}{
		{"3", "input", "venue", "200"},
		{"4", "textarea", "notes", "10000"},
		{"7", "input", "source", "100"},
		{"8", "input", "display_name", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d fields, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.where != "page.html:"+w.line || g.tag != w.tag || g.attrs["name"] != w.name || g.attrs["maxlength"] != w.maxlength {
			t.Errorf("field %d: got %s <%s name=%q maxlength=%q>, want line %s <%s name=%q maxlength=%q>",
				i, g.where, g.tag, g.attrs["name"], g.attrs["maxlength"], w.line, w.tag, w.name, w.maxlength)
		}
	}
}
