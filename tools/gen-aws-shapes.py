#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generate src/api/aws_shapes.inc: C tables of the input shapes of the ECR, EventBridge and SNS
operations vigil serves, taken from the botocore service models the aws CLI ships with.

Usage: tools/gen-aws-shapes.py [BOTOCORE_DATA_DIR] > src/api/aws_shapes.inc
       (default BOTOCORE_DATA_DIR: /usr/lib/python3/dist-packages/awscli/botocore/data, the
       Debian awscli 2.9.19 package)

The output depends only on the three service-2.json files, so a re-run with the same CLI
gives the same bytes. What is carried over from the models (all protocol facts): service
metadata (target prefix, API version, XML namespace, signing name), each operation's input
shape and whether it has an output (and its XML result wrapper), every shape reachable from
those inputs with its type, min/max, pattern, enum values, members (name, query location name,
required), and every modelled exception with its code and HTTP status.
"""
import json
import os
import sys

DEFAULT_DIR = "/usr/lib/python3/dist-packages/awscli/botocore/data"

# Service key, model path, operations in the order vigil registers them.
SERVICES = [
    ("ECR", "ecr/2015-09-21", [
        "CreateRepository", "DescribeRepositories", "DeleteRepository", "ListImages",
        "DescribeImages", "BatchGetImage", "BatchDeleteImage", "PutImageTagMutability",
        "GetAuthorizationToken", "PutImageScanningConfiguration",
        "PutRegistryScanningConfiguration", "GetRegistryScanningConfiguration",
        "StartImageScan", "DescribeImageScanFindings",
    ]),
    ("EVENTS", "events/2015-10-07", [
        "PutRule", "DescribeRule", "ListRules", "DeleteRule", "EnableRule", "DisableRule",
        "PutTargets", "RemoveTargets", "ListTargetsByRule", "TestEventPattern", "PutEvents",
    ]),
    ("SNS", "sns/2010-03-31", [
        "CreateTopic", "DeleteTopic", "ListTopics", "GetTopicAttributes", "SetTopicAttributes",
        "Subscribe", "ConfirmSubscription", "Unsubscribe", "ListSubscriptions",
        "ListSubscriptionsByTopic", "GetSubscriptionAttributes", "SetSubscriptionAttributes",
        "Publish",
    ]),
]

TYPES = {
    "structure": "AWS_T_STRUCTURE", "list": "AWS_T_LIST", "map": "AWS_T_MAP",
    "string": "AWS_T_STRING", "integer": "AWS_T_INTEGER", "long": "AWS_T_LONG",
    "boolean": "AWS_T_BOOLEAN", "timestamp": "AWS_T_TIMESTAMP", "blob": "AWS_T_BLOB",
    "double": "AWS_T_DOUBLE", "float": "AWS_T_FLOAT",
}

# Exceptions without an "error" trait (the JSON services) carry no status in the model; these
# are the server-fault ones, answered with 500. Everything else is a client fault (400).
SERVER_FAULTS = {"ServerException", "InternalException"}


def c_str(s):
    """A C string literal for s (UTF-8 bytes, escaped so the file stays ASCII)."""
    if s is None:
        return "NULL"
    out = ['"']
    prev_hex = False
    for b in s.encode("utf-8"):
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
            prev_hex = False
        elif c == "?" and out[-1].endswith("?"):
            out.append("\\?")  # never a "??" trigraph
            prev_hex = False
        elif 0x20 <= b < 0x7F:
            # a hex escape would swallow a following hex digit: split the literal
            if prev_hex and c in "0123456789abcdefABCDEF":
                out.append('" "')
            out.append(c)
            prev_hex = False
        else:
            out.append("\\x%02x" % b)
            prev_hex = True
    out.append('"')
    return "".join(out)


def num(v):
    """min/max as a C long long literal (the models use integers; a float is truncated)."""
    return "%dLL" % int(v)


class Gen:
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.shapes = []        # emitted shape records
        self.shape_index = {}   # (service, shape name) -> index
        self.fields = []
        self.patterns = []
        self.pattern_index = {}
        self.enums = []
        self.services = []
        self.operations = []
        self.errors = []

    def pattern(self, p):
        if p is None:
            return -1
        if p not in self.pattern_index:
            self.pattern_index[p] = len(self.patterns)
            self.patterns.append(p)
        return self.pattern_index[p]

    def shape(self, svc, model, name, stack=()):
        key = (svc, name)
        if key in self.shape_index:
            return self.shape_index[key]
        if name in stack:
            sys.exit("gen-aws-shapes: recursive shape %s in %s is not supported" % (name, svc))
        sh = model["shapes"][name]
        t = sh["type"]
        if t not in TYPES:
            sys.exit("gen-aws-shapes: shape %s has unsupported type %s" % (name, t))
        idx = len(self.shapes)
        self.shape_index[key] = idx
        rec = {
            "name": name, "type": TYPES[t], "min": sh.get("min"), "max": sh.get("max"),
            "pattern": self.pattern(sh.get("pattern")), "enum_first": 0, "enum_count": 0,
            "first": 0, "count": 0, "member": -1, "value": -1,
            "member_name": None, "value_name": None,
        }
        self.shapes.append(rec)
        stack = stack + (name,)
        if "enum" in sh:
            rec["enum_first"] = len(self.enums)
            rec["enum_count"] = len(sh["enum"])
            self.enums.extend(sh["enum"])
        if t == "structure":
            required = set(sh.get("required", []))
            members = list(sh["members"].items())
            # Resolve member shapes first so the structure's fields stay contiguous.
            resolved = [(mname, m, self.shape(svc, model, m["shape"], stack)) for mname, m in members]
            rec["first"] = len(self.fields)
            rec["count"] = len(resolved)
            for mname, m, sidx in resolved:
                self.fields.append({
                    "name": mname, "query_name": m.get("locationName"),
                    "shape": sidx, "required": mname in required,
                })
        elif t == "list":
            rec["member"] = self.shape(svc, model, sh["member"]["shape"], stack)
            rec["member_name"] = sh["member"].get("locationName", "member")
            if sh.get("flattened"):
                sys.exit("gen-aws-shapes: flattened list %s is not supported" % name)
        elif t == "map":
            rec["member"] = self.shape(svc, model, sh["key"]["shape"], stack)
            rec["value"] = self.shape(svc, model, sh["value"]["shape"], stack)
            rec["member_name"] = sh["key"].get("locationName", "key")
            rec["value_name"] = sh["value"].get("locationName", "value")
            if sh.get("flattened"):
                sys.exit("gen-aws-shapes: flattened map %s is not supported" % name)
        return idx

    def service(self, key, path, ops):
        with open(os.path.join(self.data_dir, path, "service-2.json"), encoding="utf-8") as f:
            model = json.load(f)
        md = model["metadata"]
        svc_index = len(self.services)
        self.services.append({
            "key": key, "protocol": md["protocol"],
            "signing_name": md.get("signingName", md["endpointPrefix"]),
            "target_prefix": md.get("targetPrefix"), "api_version": md["apiVersion"],
            "xml_namespace": md.get("xmlNamespace"), "uid": md.get("uid", path),
        })
        for op in ops:
            o = model["operations"][op]
            inp = self.shape(key, model, o["input"]["shape"]) if "input" in o else -1
            out = o.get("output")
            self.operations.append({
                "service": svc_index, "name": op, "input": inp,
                "has_output": out is not None,
                "result_wrapper": out.get("resultWrapper") if out else None,
            })
        for name in sorted(model["shapes"]):
            sh = model["shapes"][name]
            if not sh.get("exception"):
                continue
            err = sh.get("error", {})
            status = err.get("httpStatusCode", 500 if name in SERVER_FAULTS else 400)
            sender = err.get("senderFault", status < 500) if err else status < 500
            self.errors.append({
                "service": svc_index, "shape": name, "code": err.get("code", name),
                "status": status, "sender": bool(sender),
            })

    def emit(self):
        w = sys.stdout.write
        w("/* SPDX-License-Identifier: Apache-2.0 */\n")
        w("/* Generated by tools/gen-aws-shapes.py from the botocore service models bundled with the\n")
        w(" * aws CLI (awscli/botocore/data/{ecr/2015-09-21,events/2015-10-07,sns/2010-03-31}/\n")
        w(" * service-2.json). Do not edit; regenerate with\n")
        w(" *   tools/gen-aws-shapes.py [BOTOCORE_DATA_DIR] > src/api/aws_shapes.inc\n")
        w(" * Included once, by src/api/awsshapes.c; the types are in src/api/awsproto_internal.h. */\n\n")

        w("static const char *const aws_enum_values[] = {\n")
        for i, e in enumerate(self.enums):
            w("    /* %d */ %s,\n" % (i, c_str(e)))
        w("};\n\n")

        w("static const char *const aws_patterns[] = {\n")
        for i, p in enumerate(self.patterns):
            w("    /* %d */ %s,\n" % (i, c_str(p)))
        w("};\n\n")

        w("/* name, query name (NULL: same as name), shape, required */\n")
        w("static const struct aws_field aws_fields[] = {\n")
        for i, f in enumerate(self.fields):
            w("    /* %d */ { %s, %s, %d, %s },\n" % (
                i, c_str(f["name"]), c_str(f["query_name"]), f["shape"],
                "true" if f["required"] else "false"))
        w("};\n\n")

        w("/* name, type, flags, min, max, pattern, enum first/count, field first/count,\n")
        w(" * member (list element or map key), map value, query member/key name, query value name */\n")
        w("static const struct aws_shape aws_shapes[] = {\n")
        for i, s in enumerate(self.shapes):
            flags = []
            if s["min"] is not None:
                flags.append("AWS_HAS_MIN")
            if s["max"] is not None:
                flags.append("AWS_HAS_MAX")
            w("    /* %d */ { %s, %s, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %s, %s },\n" % (
                i, c_str(s["name"]), s["type"], " | ".join(flags) or "0",
                num(s["min"] or 0), num(s["max"] or 0), s["pattern"],
                s["enum_first"], s["enum_count"], s["first"], s["count"],
                s["member"], s["value"], c_str(s["member_name"]), c_str(s["value_name"])))
        w("};\n\n")

        w("/* protocol, signing name, target prefix, API version, XML namespace */\n")
        w("static const struct aws_service_def aws_services[] = {\n")
        for s in self.services:
            proto = "AWS_PROTO_JSON" if s["protocol"] == "json" else "AWS_PROTO_QUERY"
            w("    [AWS_SVC_%s] = { %s, %s, %s, %s, %s },\n" % (
                s["key"], proto, c_str(s["signing_name"]), c_str(s["target_prefix"]),
                c_str(s["api_version"]), c_str(s["xml_namespace"])))
        w("};\n\n")

        w("/* service, name, input shape, has output, XML result wrapper */\n")
        w("static const struct aws_operation aws_operations[] = {\n")
        for o in self.operations:
            w("    { AWS_SVC_%s, %s, %d, %s, %s },\n" % (
                self.services[o["service"]]["key"], c_str(o["name"]), o["input"],
                "true" if o["has_output"] else "false", c_str(o["result_wrapper"])))
        w("};\n\n")

        w("/* service, exception shape, error code, HTTP status, sender fault */\n")
        w("static const struct aws_error_def aws_errors[] = {\n")
        for e in self.errors:
            w("    { AWS_SVC_%s, %s, %s, %d, %s },\n" % (
                self.services[e["service"]]["key"], c_str(e["shape"]), c_str(e["code"]),
                e["status"], "true" if e["sender"] else "false"))
        w("};\n")


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DIR
    g = Gen(data_dir)
    for key, path, ops in SERVICES:
        g.service(key, path, ops)
    g.emit()


if __name__ == "__main__":
    main()
