from briefml.cli import app

app()
