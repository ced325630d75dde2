"""Small pieces of layout shared by the dashboard's pages."""
