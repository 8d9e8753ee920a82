"""PDFs and printers: queue tickets now, slips, catalogs and reports later. Imports the
domain, never the UI."""
