"""The website chat widget: its script, the demo shop page and the demo sign-in."""
