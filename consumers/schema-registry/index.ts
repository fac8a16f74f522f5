export { avroSubjectOf, protobufSubjectOf, type RegisterOptions, registerOurSchemas } from "./our-schemas.ts";
export {
  type RegisteredSchema,
  type SchemaLookup,
  type SchemaReference,
  SchemaRegistryClient,
  type SchemaRegistryClientOptions,
  SchemaRegistryRefusedError,
  SchemaRegistryUnavailableError,
  type SchemaType,
} from "./registry-client.ts";
