package slackinstall

import (
	"html"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// The small HTML pages a person sees at the end of an install. Every value
// is escaped (html.EscapeString) as it is written; no internal error text
// reaches them (the log has the details). They are built by hand, not with
// html/template: its reflection keeps every method of every type in the
// binary, which would take the function over its size budget.

type page struct {
	Status     int
	Title      string
	Paragraphs []string
	Steps      []string
	Command    string
	Link       *link
}

type link struct {
	URL  string // http or https only; anything else is not written
	Text string
}

const pageStyle = `body{font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1c1d;max-width:40rem;margin:3rem auto;padding:0 1rem}
h1{font-size:1.5rem}code{background:#f4f4f4;padding:0 .25rem;border-radius:3px;word-break:break-all}
a.button{display:inline-block;background:#007a5a;color:#fff;padding:.5rem 1rem;border-radius:4px;text-decoration:none}
li{margin:.5rem 0}`

// html renders the page.
func (p page) html() string {
	e := html.EscapeString
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + e(p.Title) + " · Org Credit</title>\n<style>\n" + pageStyle + "\n</style>\n</head>\n<body>\n")
	b.WriteString("<h1>" + e(p.Title) + "</h1>\n")
	for _, para := range p.Paragraphs {
		b.WriteString("<p>" + e(para) + "</p>\n")
	}
	if len(p.Steps) > 0 {
		b.WriteString("<ol>\n")
		for _, s := range p.Steps {
			b.WriteString("<li>" + e(s) + "</li>\n")
		}
		b.WriteString("</ol>\n")
	}
	if p.Command != "" {
		b.WriteString("<p><code>" + e(p.Command) + "</code></p>\n")
	}
	if p.Link != nil && webURL(p.Link.URL) {
		b.WriteString("<p><a class=\"button\" href=\"" + e(p.Link.URL) + "\">" + e(p.Link.Text) + "</a></p>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

// webURL reports whether u is an absolute http(s) URL, the only links a
// page carries.
func webURL(u string) bool {
	parsed, err := url.Parse(u)
	return err == nil && (parsed.Scheme == "https" || parsed.Scheme == "http") && parsed.Host != ""
}

// response renders the page with headers that keep it private and inert:
// not cached, not framed, no referrer (the redirect's URL holds the code
// and state), no scripts.
func (p page) response(cookies ...string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: p.Status,
		Headers:    pageHeaders("text/html; charset=utf-8"),
		Body:       p.html(),
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
