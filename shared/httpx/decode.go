package httpx

import (
	"bandarchive/shared/errs"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/google/uuid"
)

// MaxFormBytes bounds the small JSON and form bodies of the API.
const MaxFormBytes = 64 << 10

// DecodeInput reads a small JSON or form-encoded body into dst, a pointer to
// a struct whose string fields carry json tags. Browsers without JavaScript
// post forms; the UI and scripts post JSON: both are accepted.
func DecodeInput(w http.ResponseWriter, r *http.Request, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data":
		parse := r.ParseForm // which does not read multipart bodies
		if mt == "multipart/form-data" {
			parse = func() error { return r.ParseMultipartForm(MaxFormBytes) }
		}
		if err := parse(); err != nil {
			return bodyError(err)
		}
		fillFromForm(dst, r.PostForm)
		return nil
	case "application/json", "":
		return decodeJSON(r, dst)
	default:
		return errs.Errorf(errs.Unsupported, "Send JSON or a form, not %s.", mt)
	}
}

// DecodeJSON reads a small JSON body into dst, any JSON-decodable value:
// for inputs a form cannot express (an edit that clears a field with null).
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "application/json", "":
		return decodeJSON(r, dst)
	default:
		return errs.Errorf(errs.Unsupported, "Send JSON (Content-Type: application/json), not %s.", mt)
	}
}

func decodeJSON(r *http.Request, dst any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return bodyError(err)
	}
	// More would let a stray "}" or "]" through; only the end may follow.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Errorf(errs.Invalid, "The request body must hold one JSON object.")
	}
	return nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errs.Errorf(errs.TooLarge, "The request body is too large.")
	}
	if errors.Is(err, io.EOF) {
		return errs.Errorf(errs.Invalid, "The request body is empty.")
	}
	return errs.Wrap(errs.Invalid, err, "The request body is not valid JSON of the expected shape.")
}

func fillFromForm(dst any, form map[string][]string) {
	v := reflect.ValueOf(dst).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || f.Type.Kind() != reflect.String {
			continue
		}
		if vals := form[name]; len(vals) > 0 {
			v.Field(i).SetString(vals[0])
		}
	}
}

// PathUUID reads the path wildcard name as a UUID. Anything else names
// nothing, so it is answered as notFound, like an id that does not exist.
func PathUUID(r *http.Request, name string, notFound error) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, notFound
	}
	return id, nil
}

// DecodeFields reads a small JSON object into the targets of fields, each
// a pointer to a pointer (&in.Role of a Role *string), which stays nil for
// a field the object leaves out. A field not in fields, a null, or a value
// of the wrong type is refused, naming the field. An empty object (or
// null) changes nothing.
func DecodeFields(w http.ResponseWriter, r *http.Request, fields map[string]any) error {
	var raw map[string]json.RawMessage
	if err := DecodeJSON(w, r, &raw); err != nil {
		return err
	}
	for name, v := range raw {
		target, ok := fields[name]
		if !ok {
			return errs.InvalidField(name, "The field %q cannot be changed here.", name)
		}
		if string(v) == "null" {
			return errs.InvalidField(name, "The field %q needs a value.", name)
		}
		if err := json.Unmarshal(v, target); err != nil {
			return errs.InvalidField(name, "The field %q has a value of the wrong kind.", name)
		}
	}
	return nil
}
