package verify

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
)

// page is one of the link flow's two HTML answers (SPEC.md "Errors").
type page struct {
	AppName string
	Title   string
	Message string
	// Button, when set, is a form that POSTs back to this same URL.
	Button string
	// Link, when set, points to where the person can go next.
	Link, LinkText string
}

func confirmPage(app string) page {
	return page{AppName: app, Title: "Sign in to " + app,
		Message: "Press the button to finish signing in on this device.", Button: "Sign in"}
}

func malformedPage(app string) page {
	return page{AppName: app, Title: "This link is not complete",
		Message: "The sign-in link looks cut short or changed. Copy the whole link from the mail, or ask for a new one.",
		Link:    "/login", LinkText: "Ask for a new link"}
}

func expiredPage(app string) page {
	return page{AppName: app, Title: "This link has expired or was already used",
		Message: "Sign-in links work once, for 10 minutes. Ask for a new one and use it right away.",
		Link:    "/login", LinkText: "Ask for a new link"}
}

func inviteGonePage(app string) page {
	return page{AppName: app, Title: "This invite is no longer valid",
		Message: "The invite behind this link was used, revoked or has expired. Ask a band admin for a new invite.",
		Link:    "/login", LinkText: "Go to sign-in"}
}

// The form has no action: it posts to the page's own URL, token included,
// and so never puts the token anywhere new.
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · {{.AppName}}</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body class="link-page">
<main class="card">
<p class="brand">{{.AppName}}</p>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Button}}<form method="post"><button type="submit" class="primary" autofocus>{{.Button}}</button></form>{{end}}
{{if .Link}}<p><a class="button" href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
</main>
</body>
</html>
`))

func render(w http.ResponseWriter, status int, p page) error {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
