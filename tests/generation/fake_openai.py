"""A small OpenAI-compatible completions server on loopback, for the HTTP backend's real code path.

Generation answers come from a `respond(prompt, i, seed)` function; scoring (echo) gives every
character a log-prob of -0.5 (the first none), as a server with one token per character would.
"""

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serve(respond, fail_first: int = 0):
    state = {"calls": [], "fail_first": fail_first}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["calls"].append((self.headers.get("Authorization"), body))
            if state["fail_first"] > 0:
                state["fail_first"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            if body.get("echo"):
                texts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                choices = []
                for i, text in enumerate(texts):
                    logprobs = {"text_offset": list(range(len(text))), "token_logprobs": [None] + [-0.5] * (len(text) - 1)}
                    choices.append({"index": i, "text": text, "logprobs": logprobs})
            else:
                choices = [
                    {"index": i, "text": respond(body["prompt"], i, body.get("seed", 0))} for i in range(body.get("n", 1))
                ]
            data = json.dumps({"choices": choices}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", state
    finally:
        httpd.shutdown()
        httpd.server_close()
