package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// TestBandAndAccount: an admin disables a member on the band page, and the
// member's open tab is signed out as soon as it looks again; on the
// account page the admin renames themself and signs out another device,
// which then has to sign in, while this one stays.
func TestBandAndAccount(t *testing.T) {
	chromium(t)
	st, fake := startStack(t)
	base := st.BaseURL
	addMember(t, st.DatabaseURL, "lou@band.example", "Lou")
	admin := tab(t, browser(t))
	signIn(t, admin, base, fake, 1)

	lou := tab(t, browser(t))
	run(t, lou, "Lou signs in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css("#email")),
		chromedp.SendKeys(css("#email"), "lou@band.example"),
		chromedp.Click(css("#send-link")),
		textIs("#status", "on its way"))
	run(t, lou, "Lou opens the band page", append(confirmLink(mailedLink(t, fake, base, 2)),
		chromedp.WaitVisible(css("#sort")),
		chromedp.Navigate(base+"/band"),
		textIs("#band-rows", "Lou"),
		textIs("#band-rows", "(you)"))...)
	if v := value[bool](t, lou, `document.querySelector('#band-rows button') === null && !document.body.textContent.includes('admin@band.example')`); !v {
		t.Error("a member sees an admin's controls or another member's email on the band page")
	}

	run(t, admin, "the admin disables Lou, after saying yes",
		chromedp.Navigate(base+"/band"),
		chromedp.WaitVisible(css(`button[aria-label="Disable Lou"]`)),
		chromedp.Click(css(`button[aria-label="Disable Lou"]`)),
		until(`document.querySelector('#confirm-disable').open`),
		textIs("#confirm-text", "signed out on every device"),
		chromedp.Click(css("#confirm-yes")),
		textIs("#status", "Lou is disabled"),
		textIs(`#band-rows tr:nth-child(2)`, "Disabled"),
		chromedp.WaitVisible(css(`button[aria-label="Enable Lou"]`)))

	// Lou comes back to the tab: the page looks again and is sent to sign in.
	run(t, lou, "Lou's open tab is signed out",
		until(`(window.dispatchEvent(new Event('focus')), true)`),
		chromedp.WaitVisible(css("#email")),
		until(`location.pathname === '/login' && new URLSearchParams(location.search).get('next') === '/band'`))

	run(t, admin, "the admin enables Lou again",
		chromedp.Click(css(`button[aria-label="Enable Lou"]`)),
		textIs("#status", "Lou is enabled again"),
		chromedp.WaitVisible(css(`button[aria-label="Disable Lou"]`)))

	// A second device of the admin's.
	phone := tab(t, browser(t))
	signIn(t, phone, base, fake, 3)
	run(t, admin, "the account page lists both devices, this one first",
		chromedp.Navigate(base+"/account"),
		until(`document.querySelectorAll('#device-rows tr').length === 2`),
		textIs("#device-rows tr:first-child", "This device"),
		textIs("#device-rows tr:first-child", "Headless Chrome on Linux"))
	run(t, admin, "rename myself",
		chromedp.SetValue(css("#display-name"), "  The   Boss "),
		chromedp.Click(css("#save-name")),
		textIs("#status", "Your name is saved"),
		until(`document.querySelector('#display-name').value === 'The Boss'`))
	run(t, admin, "sign out the other device",
		chromedp.Click(css("#device-rows tr:nth-child(2) button")),
		textIs("#status", "is signed out"),
		until(`document.querySelectorAll('#device-rows tr').length === 1`))
	run(t, phone, "the other device has to sign in again",
		chromedp.Navigate(base+"/band"),
		chromedp.WaitVisible(css("#email")),
		until(`location.pathname === '/login'`))
	run(t, admin, "this device stays signed in",
		chromedp.Navigate(base+"/band"),
		textIs("#band-rows", "The Boss"))
	newShots(t).take(t, admin, "band")
}

// addMember adds a member who can sign in with their email.
func addMember(t *testing.T, dbURL, email, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO users (id, email, display_name, role) VALUES (gen_random_uuid(), $1, $2, 'member')`, email, name); err != nil {
		t.Fatal(err)
	}
}
