package httpx_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"bandarchive/shared/errs"
	"bandarchive/shared/httpx"
)

type joinInput struct {
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
}

func multipartBody(t *testing.T, fields map[string]string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), mw.FormDataContentType()
}

func TestDecodeInput(t *testing.T) {
	const (
		jsonType = "application/json"
		formType = "application/x-www-form-urlencoded"
	)
	mpBody, mpType := multipartBody(t, map[string]string{"email": "ann@example.org", "display_name": "Ann"})
	huge := strings.Repeat("a", httpx.MaxFormBytes)
	tests := []struct {
		name        string
		contentType string
		body        string
		want        joinInput
		wantCode    errs.Code // "" for success
		wantStatus  int
	}{
		{
			name: "JSON", contentType: jsonType,
			body: `{"email":"ann@example.org","display_name":"Ann"}`,
			want: joinInput{Email: "ann@example.org", DisplayName: "Ann"},
		},
		{
			name: "JSON with a charset", contentType: "application/json; charset=utf-8",
			body: `{"email":"ann@example.org"}`,
			want: joinInput{Email: "ann@example.org"},
		},
		{
			name: "JSON without a content type", contentType: "",
			body: `{"email":"ann@example.org"}`,
			want: joinInput{Email: "ann@example.org"},
		},
		{
			name: "JSON followed by whitespace", contentType: jsonType,
			body: "{\"email\":\"ann@example.org\"}\n\t ",
			want: joinInput{Email: "ann@example.org"},
		},
		{
			name: "form", contentType: formType,
			body: url.Values{"email": {"ann@example.org"}, "display_name": {"Ann Smith"}, "extra": {"ignored"}}.Encode(),
			want: joinInput{Email: "ann@example.org", DisplayName: "Ann Smith"},
		},
		{
			name: "multipart form", contentType: mpType, body: mpBody,
			want: joinInput{Email: "ann@example.org", DisplayName: "Ann"},
		},
		{
			name: "unknown field", contentType: jsonType,
			body:     `{"email":"ann@example.org","role":"admin"}`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "wrong type", contentType: jsonType,
			body:     `{"email":42}`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "not JSON", contentType: jsonType,
			body:     `email=ann@example.org`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "empty body", contentType: jsonType,
			body:     ``,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "a second object after the first", contentType: jsonType,
			body:     `{"email":"ann@example.org"} {"email":"bob@example.org"}`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "a stray brace after the object", contentType: jsonType,
			body:     `{"email":"ann@example.org"}}`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "a stray bracket after the object", contentType: jsonType,
			body:     `{"email":"ann@example.org"}]`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "text after the object", contentType: jsonType,
			body:     `{"email":"ann@example.org"} trailing`,
			wantCode: errs.Invalid, wantStatus: http.StatusBadRequest,
		},
		{
			name: "JSON too large", contentType: jsonType,
			body:     `{"email":"` + huge + `"}`,
			wantCode: errs.TooLarge, wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name: "form too large", contentType: formType,
			body:     "email=" + huge,
			wantCode: errs.TooLarge, wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name: "plain text", contentType: "text/plain",
			body:     `ann@example.org`,
			wantCode: errs.Unsupported, wantStatus: http.StatusUnsupportedMediaType,
		},
		{
			name: "XML", contentType: "application/xml",
			body:     `<email>ann@example.org</email>`,
			wantCode: errs.Unsupported, wantStatus: http.StatusUnsupportedMediaType,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/auth/join/x", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var got joinInput
			err := httpx.DecodeInput(httptest.NewRecorder(), r, &got)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if got != tt.want {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %+v and no error, want %s", got, tt.wantCode)
			}
			if code := errs.CodeOf(err); code != tt.wantCode || httpx.Status(code) != tt.wantStatus {
				t.Errorf("got %s (%d), want %s (%d): %v", code, httpx.Status(code), tt.wantCode, tt.wantStatus, err)
			}
		})
	}
}

func TestDecodeFields(t *testing.T) {
	for _, tt := range []struct {
		name, body    string
		wantField     string // "" for success
		wantRole      *string
		wantDisabled  *bool
		wantBadStatus bool // refused before the fields are looked at
	}{
		{name: "both", body: `{"role":"admin","disabled":true}`, wantRole: ptr("admin"), wantDisabled: ptr(true)},
		{name: "one left out stays nil", body: `{"disabled":false}`, wantDisabled: ptr(false)},
		{name: "empty object", body: `{}`},
		{name: "null body", body: `null`},
		{name: "unknown field", body: `{"email":"a@b.example"}`, wantField: "email"},
		{name: "null value", body: `{"role":null}`, wantField: "role"},
		{name: "wrong type", body: `{"disabled":"yes"}`, wantField: "disabled"},
		{name: "nested object", body: `{"role":{"$ne":1}}`, wantField: "role"},
		{name: "not an object", body: `[1]`, wantBadStatus: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("PATCH", "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			var role *string
			var disabled *bool
			err := httpx.DecodeFields(httptest.NewRecorder(), r, map[string]any{"role": &role, "disabled": &disabled})
			e := errs.As(err)
			switch {
			case tt.wantBadStatus:
				if e == nil || e.Code != errs.Invalid || e.Field != "" {
					t.Fatalf("err = %v, want invalid without a field", err)
				}
			case tt.wantField != "":
				if e == nil || e.Code != errs.Invalid || e.Field != tt.wantField {
					t.Fatalf("err = %v, want invalid naming %q", err, tt.wantField)
				}
			case err != nil:
				t.Fatalf("err = %v, want none", err)
			case !same(role, tt.wantRole) || !same(disabled, tt.wantDisabled):
				t.Fatalf("role %v disabled %v, want %v %v", role, disabled, tt.wantRole, tt.wantDisabled)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func same[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
