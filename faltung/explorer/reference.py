"""An offline API reference page, rendered on the server from the app's own OpenAPI description.

FastAPI's /docs loads Swagger UI from a CDN, so it stays blank without a network;
``reference_html(openapi)`` lists the same endpoints (method, path, summary, description,
parameters, request body, responses) as plain HTML with no scripts, for GET /reference.
"""
import html
import json


def _schema_name(schema):
    """``PredictRequest`` for {"$ref": "#/components/schemas/PredictRequest"}, else a short type."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    return schema.get("type", "")


def _schema_table(name, schema):
    rows = []
    required = set(schema.get("required", []))
    for field, spec in schema.get("properties", {}).items():
        kind = _schema_name(spec) or " | ".join(_schema_name(s) for s in spec.get("anyOf", []))
        rows.append(f"<tr><td><code>{html.escape(field)}</code>{' *' if field in required else ''}</td>"
                    f"<td>{html.escape(kind)}</td><td>{html.escape(spec.get('description', ''))}</td></tr>")
    return (f"<h3 id='{html.escape(name)}'>{html.escape(name)}</h3>"
            f"<p>{html.escape(schema.get('description', ''))}</p>"
            f"<table><tr><th>field</th><th>type</th><th></th></tr>{''.join(rows)}</table>")


def _operation(method, path, op):
    params = "".join(f"<li><code>{html.escape(p['name'])}</code> ({p['in']}) "
                     f"{html.escape(json.dumps(p.get('schema', {})))}</li>" for p in op.get("parameters", []))
    body = op.get("requestBody", {}).get("content", {})
    bodies = "".join(f"<li>{html.escape(kind)}: <a href='#{_schema_name(c.get('schema'))}'>"
                     f"{html.escape(_schema_name(c.get('schema')))}</a></li>" for kind, c in body.items())
    responses = "".join(f"<li><b>{code}</b> {html.escape(r.get('description', ''))}</li>"
                        for code, r in op.get("responses", {}).items())
    return (f"<section><h2><span class='m'>{method.upper()}</span> <code>{html.escape(path)}</code> "
            f"{html.escape(op.get('summary', ''))}</h2><p>{html.escape(op.get('description', ''))}</p>"
            + (f"<h4>parameters</h4><ul>{params}</ul>" if params else "")
            + (f"<h4>request body</h4><ul>{bodies}</ul>" if bodies else "")
            + f"<h4>responses</h4><ul>{responses}</ul></section>")


def reference_html(openapi):
    """The whole page for an OpenAPI dict (``app.openapi()``)."""
    operations = "".join(_operation(method, path, op) for path, item in openapi.get("paths", {}).items()
                         for method, op in item.items())
    schemas = "".join(_schema_table(name, schema)
                      for name, schema in openapi.get("components", {}).get("schemas", {}).items()
                      if "ValidationError" not in name)
    info = openapi.get("info", {})
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(info.get('title', ''))} API</title>
<link rel="icon" href="data:,"><style>
body {{ font: 14px/1.5 system-ui, sans-serif; max-width: 980px; margin: 24px auto; padding: 0 16px;
  background: #0f1218; color: #dfe4ec; }}
a {{ color: #4fa3ff; }} code {{ color: #ffb000; }} h2 {{ font-size: 17px; }} h4 {{ margin: 6px 0 2px; color: #8a93a3; }}
section {{ border: 1px solid #2a303c; border-radius: 8px; padding: 4px 14px 10px; margin: 12px 0; background: #171b23; }}
.m {{ background: #ffb000; color: #111; border-radius: 4px; padding: 1px 6px; font-size: 12px; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #2a303c; padding: 3px 8px; text-align: left; }}
</style></head><body>
<h1>{html.escape(info.get('title', ''))} API <small>{html.escape(str(info.get('version', '')))}</small></h1>
<p>{html.escape(info.get('description', ''))} Machine-readable: <a href="/openapi.json">/openapi.json</a>;
interactive (needs the network for Swagger UI): <a href="/docs">/docs</a>; the page: <a href="/">/</a>.</p>
{operations}<h1>Schemas</h1>{schemas}</body></html>"""
