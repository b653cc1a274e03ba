"""`mlopsc serve --local`'s endpoint: what the SageMaker serving container does for a
real-time endpoint, without the container. It loads the handler that model.tar.gz ships
(`code/<SAGEMAKER_PROGRAM>`, `code/inference.py` by default), calls its model_fn once,
then answers `GET /ping` and `POST /invocations` (input_fn, predict_fn, output_fn) on
HOST:PORT, and writes each sampled request and response as SageMaker's data capture does.

    python serve.py MODEL_DIR HOST PORT MAX_BODY_BYTES [CAPTURE_DIR SAMPLING_PERCENT]

Bad requests get a 4xx with a reason and the server keeps serving: no body (400), no
Content-Length (411), a body over MAX_BODY_BYTES (413, SageMaker's 6 MB payload limit), no
Content-Type (415), and anything input_fn refuses, such as a corrupt image or a type it
does not take (400, or the status_code the handler's error carries, as the inference
toolkit's errors do). A failure in predict_fn or output_fn is a 500 with its reason.

Captures follow SageMaker's layout and format: JSON Lines under
CAPTURE_DIR/yyyy/mm/dd/hh/ (UTC), one line per request, binary bodies in BASE64 and JSON
ones as text. Exactly SAMPLING_PERCENT of the requests are captured, spread evenly (the
n-th request is captured when floor(n * p / 100) grows), so a test knows which ones. The
`X-Amzn-SageMaker-Inference-Id` header becomes eventMetadata.inferenceId, which ground
truth labels name.
"""

import base64
import json
import os
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mlopsc_handler import load_handler

JSON_TYPES = ("application/json", "application/jsonlines")


class Capture:
    """SageMaker-format data capture, at an exact percentage."""

    def __init__(self, directory, percent):
        self.directory = Path(directory)
        self.percent = percent
        self.requests = 0
        self.lock = threading.Lock()
        self.hour = None
        self.name = None

    def sampled(self):
        with self.lock:
            self.requests += 1
            n = self.requests
        return (n * self.percent) // 100 > ((n - 1) * self.percent) // 100

    @staticmethod
    def encoded(body, content_type):
        if content_type.split(";")[0].strip().lower() in JSON_TYPES:
            try:
                return body.decode(), "JSON"
            except UnicodeDecodeError:
                pass
        return base64.b64encode(body).decode(), "BASE64"

    def write(self, request, request_type, response, response_type, inference_id):
        now = datetime.now(timezone.utc)
        data_in, encoding_in = self.encoded(request, request_type)
        data_out, encoding_out = self.encoded(response, response_type)
        metadata = {"eventId": str(uuid.uuid4()), "inferenceTime": now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
        if inference_id:
            metadata["inferenceId"] = inference_id
        record = {
            "captureData": {
                "endpointInput": {"observedContentType": request_type, "mode": "INPUT",
                                  "data": data_in, "encoding": encoding_in},
                "endpointOutput": {"observedContentType": response_type, "mode": "OUTPUT",
                                   "data": data_out, "encoding": encoding_out},
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
        hour = now.strftime("%Y/%m/%d/%H")
        with self.lock:
            # One file per hour, as SageMaker's are named; opened for each record, so that
            # a file moved or expired meanwhile is started again rather than written blind.
            if hour != self.hour:
                name = f"{now.strftime('%M-%S')}-{now.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
                self.hour, self.name = hour, name
            folder = self.directory / hour
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / self.name, "a") as file:
                file.write(json.dumps(record) + "\n")


def serve(model_dir, host, port, max_body, capture):
    handler = load_handler(model_dir, "the local endpoint")
    model = handler.model_fn(model_dir)
    model_lock = threading.Lock()

    class Endpoint(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

        def answer(self, status, body, content_type="application/json"):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def refuse(self, status, reason):
            self.answer(status, json.dumps({"error": reason}))

        def do_GET(self):
            if self.path == "/ping":
                self.answer(200, "")
            else:
                self.refuse(404, f"no such path {self.path}; the endpoint answers GET /ping and POST /invocations")

        def do_POST(self):
            if self.path != "/invocations":
                self.refuse(404, f"no such path {self.path}; the endpoint answers GET /ping and POST /invocations")
                return
            length = self.headers.get("Content-Length")
            if length is None:
                self.close_connection = True
                self.refuse(411, "the request has no Content-Length")
                return
            try:
                length = int(length)
            except ValueError:
                self.close_connection = True
                self.refuse(400, f"Content-Length {length!r} is not a number")
                return
            if length > max_body:
                # The body is not read: the connection closes after the answer.
                self.close_connection = True
                self.refuse(413, f"the body is {length} bytes; a SageMaker endpoint takes at most {max_body}")
                return
            body = self.rfile.read(length)
            if not body:
                self.refuse(400, "the request has no body; send an image or JSON")
                return
            content_type = self.headers.get("Content-Type")
            if not content_type:
                self.refuse(415, "the request has no Content-Type")
                return
            accept = self.headers.get("Accept") or "application/json"
            with model_lock:
                try:
                    data = handler.input_fn(body, content_type)
                except Exception as error:
                    self.refuse(getattr(error, "status_code", 400), f"input_fn refused the request: {error}")
                    return
                try:
                    result = handler.output_fn(handler.predict_fn(data, model), accept)
                except Exception as error:
                    traceback.print_exc()
                    self.refuse(500, f"the model failed: {error}")
                    return
            response_type = accept
            if isinstance(result, tuple):  # (body, content type), as the serving toolkit allows
                result, response_type = result
            response = result.encode() if isinstance(result, str) else bytes(result)
            self.answer(200, response, response_type)
            if capture and capture.sampled():
                capture.write(body, content_type, response, response_type,
                              self.headers.get("X-Amzn-SageMaker-Inference-Id"))

    server = ThreadingHTTPServer((host, port), Endpoint)
    parent = os.getppid()

    def stop_with_parent():
        # mlopsc waits on this process; when it is gone (killed, not interrupted), so is this.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=stop_with_parent, daemon=True).start()
    # The port line is what `mlopsc serve` waits for (and reads when PORT is 0).
    print(f"listening on http://{host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main():
    model_dir, host, port, max_body = sys.argv[1:5]
    capture = Capture(sys.argv[5], int(sys.argv[6])) if len(sys.argv) > 6 else None
    serve(model_dir, host, int(port), int(max_body), capture)


if __name__ == "__main__":
    main()
