// Package useragent describes a browser's User-Agent string in words a
// member recognises among their devices: "Firefox on Linux".
package useragent

import "strings"

// browsers are tried in order: most browsers also claim to be another
// (Edge and Opera say Chrome, Chrome says Safari), so the specific ones
// come first.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Vivaldi/", "Vivaldi"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"Chromium/", "Chromium"},
	{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari says its version so; other WebKit browsers are caught above
	{"curl/", "curl"},
	{"Wget/", "Wget"},
	{"Go-http-client/", "A Go program"},
	{"python-requests/", "A Python script"},
}

// systems are tried in order: iOS and Android say "like Mac OS X" and
// "Linux".
var systems = []struct{ token, name string }{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"}, {"X11", "Linux"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

// Describe names the browser and system of a User-Agent, as
// "Firefox on Linux", "Safari on iPhone", "Chrome" or "Linux" when only
// one is known, and "Unknown device" when neither is.
func Describe(ua string) string {
	browser, system := find(ua, browsers), find(ua, systems)
	if browser == "Safari" && !strings.Contains(ua, "Safari/") {
		browser = "" // "Version/" without Safari is some other program
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	return "Unknown device"
}

func find(ua string, table []struct{ token, name string }) string {
	for _, e := range table {
		if strings.Contains(ua, e.token) {
			return e.name
		}
	}
	return ""
}
