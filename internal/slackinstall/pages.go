package slackinstall

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// The small HTML pages a person sees at the end of an install. Every value
// is escaped by html/template; no internal error text reaches them (the
// log has the details).

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Org Credit</title>
<style>
body{font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1c1d;max-width:40rem;margin:3rem auto;padding:0 1rem}
h1{font-size:1.5rem}code{background:#f4f4f4;padding:0 .25rem;border-radius:3px;word-break:break-all}
a.button{display:inline-block;background:#007a5a;color:#fff;padding:.5rem 1rem;border-radius:4px;text-decoration:none}
li{margin:.5rem 0}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{with .Steps}}<ol>
{{range .}}<li>{{.}}</li>
{{end}}</ol>
{{end}}{{with .Command}}<p><code>{{.}}</code></p>
{{end}}{{with .Link}}<p><a class="button" href="{{.URL}}">{{.Text}}</a></p>
{{end}}</body>
</html>
`))

type page struct {
	Status     int
	Title      string
	Paragraphs []string
	Steps      []string
	Command    string
	Link       *link
}

type link struct {
	URL  string // html/template refuses URLs with unsafe schemes
	Text string
}

// response renders the page with headers that keep it private and inert:
// not cached, not framed, no referrer (the redirect's URL holds the code
// and state), no scripts.
func (p page) response(cookies ...string) events.APIGatewayV2HTTPResponse {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		b.Reset()
		b.WriteString("<!doctype html><title>Org Credit</title><p>Something went wrong on our side. Please try again.</p>")
		p.Status = http.StatusInternalServerError
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    pageHeaders("text/html; charset=utf-8"),
		Body:       b.String(),
		Cookies:    cookies,
	}
}

func pageHeaders(contentType string) map[string]string {
	return map[string]string{
		"Content-Type":            contentType,
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	}
}

// startOver is the link back to the start of the install.
func startOver(installURL string) *link {
	if installURL == "" {
		return nil
	}
	return &link{URL: installURL, Text: "Start the install again"}
}
