export { type AvroRecordValue, fromAvroRecord, toAvroRecord } from "./avro-record.ts";
export { type AvroRecord, type AvroType, avroSchemaOf } from "./avro-schema.ts";
