"""A minimal OTLP/HTTP trace receiver for the tracing tests: an independent decoder of what Warden exports.

Usage: otlp_receiver.py <directory>

Listens on 127.0.0.1 (a free port, written to <directory>/port once listening), takes
`POST /v1/traces` with an `application/x-protobuf` body, decodes it with the OpenTelemetry project's own
`ExportTraceServiceRequest` (PyPI `opentelemetry-proto`) and appends:

- every raw body to <directory>/raw.bin (so a test can look for secrets in the exact bytes sent);
- one JSON line per span to <directory>/spans.jsonl: trace and span ids in hex, the parent id ("" for
  a root), name, kind, status code, attributes (values as strings) and the resource's `service.name`.

Anything else is answered 404; a body that does not decode is 400 (and recorded in <directory>/errors).
Runs until killed.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

directory = sys.argv[1]


def value_text(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    if kind in ("array_value", "kvlist_value"):
        return str(getattr(value, kind))
    return str(getattr(value, kind))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if self.path != "/v1/traces":
            self.send_response(404)
            self.end_headers()
            return
        with open(os.path.join(directory, "raw.bin"), "ab") as raw:
            raw.write(body)
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as error:  # noqa: BLE001 - any decode failure is the test's finding
            with open(os.path.join(directory, "errors"), "a") as errors:
                errors.write(f"{type(error).__name__}: {error}\n")
            self.send_response(400)
            self.end_headers()
            return
        lines = []
        for resource_spans in request.resource_spans:
            service = ""
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    service = value_text(attribute.value)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    lines.append(json.dumps({
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "name": span.name,
                        "kind": span.kind,
                        "status": span.status.code,
                        "attributes": {a.key: value_text(a.value) for a in span.attributes},
                        "service": service,
                    }))
        with open(os.path.join(directory, "spans.jsonl"), "a") as spans:
            for line in lines:
                spans.write(line + "\n")
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(directory, "port.tmp"), "w") as port:
    port.write(str(server.server_address[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
server.serve_forever()
