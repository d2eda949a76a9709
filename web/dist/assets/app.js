// placeholder for the console bundle; the front end build replaces web/dist/ (issue 16)
