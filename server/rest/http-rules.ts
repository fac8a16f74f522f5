import { type DescMethod, type DescService, getOption, hasOption } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.ts";
import type { HttpRule } from "../../gen/google/api/http_pb.ts";
import { type PathTemplate, parsePathTemplate } from "./path-template.ts";

/** One REST binding of an RPC, read from its google.api.http option. */
export interface RestBinding {
  httpMethod: string;
  template: PathTemplate;
  /** "" (no body), "*" (the whole request) or the name of the request field the body fills. */
  body: string;
  /** "" for the whole response, or the response field that is the REST body. */
  responseBody: string;
  rpc: DescMethod;
}

export function restBindingsOf(services: DescService[]): RestBinding[] {
  const bindings: RestBinding[] = [];
  for (const service of services) {
    for (const rpc of service.methods) {
      if (!hasOption(rpc, http)) continue;
      if (rpc.methodKind !== "unary") {
        throw new Error(
          `${service.typeName}.${rpc.name}: only unary methods can have a google.api.http rule`,
        );
      }
      const rule = getOption(rpc, http);
      for (const each of [rule, ...rule.additionalBindings]) bindings.push(bindingOf(each, rpc));
    }
  }
  return bindings;
}

function bindingOf(rule: HttpRule, rpc: DescMethod): RestBinding {
  const pattern = rule.pattern;
  let httpMethod: string;
  let path: string;
  switch (pattern.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      httpMethod = pattern.case.toUpperCase();
      path = pattern.value;
      break;
    case "custom":
      httpMethod = pattern.value.kind.toUpperCase();
      path = pattern.value.path;
      break;
    default:
      throw new Error(`${rpc.parent.typeName}.${rpc.name}: google.api.http rule has no pattern`);
  }
  const template = parsePathTemplate(path);
  if (rule.body !== "" && rule.body !== "*" && !rpc.input.fields.some((field) => field.name === rule.body)) {
    throw new Error(
      `${rpc.parent.typeName}.${rpc.name}: body "${rule.body}" is not a field of ${rpc.input.typeName}`,
    );
  }
  return { httpMethod, template, body: rule.body, responseBody: rule.responseBody, rpc };
}
