"""The framework ceiling: a bare Flask app rendering a ~5 KB template, nothing else.

Served by bench/run.py exactly as the forum is (same gunicorn, same workers), so the forum's
pages can be measured as a fraction of what Flask and Jinja alone can do on this machine.
"""
from flask import Flask, render_template

app = Flask(__name__, template_folder="templates")

ITEMS = [{"id": n, "title": f"A topic title of ordinary length, number {n}",
          "author": f"member{n:05d}", "replies": n * 3 % 41, "views": n * 17 % 503}
         for n in range(1, 17)]


@app.route("/")
def page():
    return render_template("ceiling.html", items=ITEMS)
