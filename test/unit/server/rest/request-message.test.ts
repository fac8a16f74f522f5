import { create, fromJson, mergeFromJson } from "@bufbuild/protobuf";
import {
  DescriptorProtoSchema,
  FieldDescriptorProtoSchema,
  FieldOptionsSchema,
  UninterpretedOptionSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../../../core/errors.ts";
import { jsonFragmentFor } from "../../../../server/rest/request-message.ts";

// google.protobuf.DescriptorProto and FieldOptions have every kind of field the
// query mapping must handle: strings, enums, bools, int32, repeated, nested messages.
describe("query parameters typed by the descriptor", () => {
  it("types scalars, enums and repeated values", () => {
    expect(jsonFragmentFor(DescriptorProtoSchema, "name", ["Template"], "name")).toEqual({
      name: "Template",
    });
    expect(jsonFragmentFor(DescriptorProtoSchema, "reserved_name", ["a", "b"], "reserved_name")).toEqual({
      reserved_name: ["a", "b"],
    });
    expect(jsonFragmentFor(FieldOptionsSchema, "packed", ["true"], "packed")).toEqual({ packed: true });
    expect(jsonFragmentFor(FieldOptionsSchema, "lazy", ["0"], "lazy")).toEqual({ lazy: false });
    expect(jsonFragmentFor(FieldOptionsSchema, "ctype", ["cord"], "ctype")).toEqual({ ctype: "CORD" });
  });

  it("follows nested messages by dots, in proto or JSON names", () => {
    expect(
      jsonFragmentFor(DescriptorProtoSchema, "options.map_entry", ["true"], "options.map_entry"),
    ).toEqual({
      options: { map_entry: true },
    });
    expect(jsonFragmentFor(DescriptorProtoSchema, "options.mapEntry", ["1"], "options.mapEntry")).toEqual({
      options: { map_entry: true },
    });
  });

  it("produces fragments that protobuf-es merges into a message", () => {
    const message = create(DescriptorProtoSchema);
    mergeFromJson(
      DescriptorProtoSchema,
      message,
      jsonFragmentFor(DescriptorProtoSchema, "name", ["T"], "name"),
    );
    mergeFromJson(
      DescriptorProtoSchema,
      message,
      jsonFragmentFor(DescriptorProtoSchema, "options.deprecated", ["true"], "options.deprecated"),
    );
    expect(message).toEqual(fromJson(DescriptorProtoSchema, { name: "T", options: { deprecated: true } }));
  });

  it("names the parameter in every rejection", () => {
    const cases: [string, string[], string][] = [
      ["packed", ["yes"], '"packed" must be true or false, got "yes"'],
      ["ctype", ["CORDS"], '"ctype" must be one of STRING, CORD, STRING_PIECE, got "CORDS"'],
      ["colour", ["red"], 'unknown parameter "colour"'],
      ["name", ["a", "b"], '"name" takes one value, got 2'],
      ["options", ["x"], '"options" is a message: set its fields as options.<field>'],
      ["name.first", ["x"], '"name.first" does not name a field of a nested message'],
    ];
    const schemaOf = (name: string) =>
      name === "packed" || name === "ctype" ? FieldOptionsSchema : DescriptorProtoSchema;
    for (const [name, values, detail] of cases) {
      let error: unknown;
      try {
        jsonFragmentFor(schemaOf(name), name, values, name);
      } catch (caught) {
        error = caught;
      }
      expect(error, name).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail).toBe(detail);
      expect((error as DomainError).source).toEqual({ parameter: name });
    }
  });

  it("types 32- and 64-bit integers and doubles, and rejects what is not one", () => {
    expect(jsonFragmentFor(FieldDescriptorProtoSchema, "number", ["5"], "number")).toEqual({ number: 5 });
    expect(
      jsonFragmentFor(UninterpretedOptionSchema, "negative_int_value", ["-9007199254740993"], "n"),
    ).toEqual({
      negative_int_value: "-9007199254740993",
    });
    expect(jsonFragmentFor(UninterpretedOptionSchema, "double_value", ["2.5"], "d")).toEqual({
      double_value: 2.5,
    });
    expect(() => jsonFragmentFor(FieldDescriptorProtoSchema, "number", ["5.5"], "number")).toThrow(
      '"number" must be an integer, got "5.5"',
    );
    expect(() => jsonFragmentFor(FieldDescriptorProtoSchema, "number", ["five"], "number")).toThrow(
      '"number" must be a number, got "five"',
    );
    expect(() => jsonFragmentFor(UninterpretedOptionSchema, "positive_int_value", ["-1"], "p")).toThrow(
      '"p" must be a non-negative integer, got "-1"',
    );
  });
});
