// Command recordings is the recordings function of the route table.
package main

import (
	"bandarchive/functions/recordings/recordings"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.Recordings, recordings.New) }
