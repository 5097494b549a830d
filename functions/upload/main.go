// Command upload is the upload function of the route table.
package main

import (
	"bandarchive/functions/upload/upload"
	"bandarchive/shared/app"
	"bandarchive/shared/routes"
)

func main() { app.Main(routes.Upload, upload.New) }
