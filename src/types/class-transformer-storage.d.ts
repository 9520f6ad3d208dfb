// class-transformer ships its metadata storage as a module of its own but types it only under
// `types/`; this names the compiled module the validation plan reads (see validation-plan.ts).
declare module 'class-transformer/cjs/storage' {
  export { defaultMetadataStorage } from 'class-transformer/types/storage';
}
