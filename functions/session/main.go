// Command session is the session function of the route table.
package main

import (
	"bandarchive/functions/session/session"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.Session, session.New) }
