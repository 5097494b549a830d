// Command invites is the invites function of the route table.
package main

import (
	"bandarchive/functions/invites/invites"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.Invites, invites.New) }
