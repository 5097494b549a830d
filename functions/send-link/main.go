// Command send-link is the send-link function of the route table.
package main

import (
	"bandarchive/functions/send-link/sendlink"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.SendLink, sendlink.New) }
