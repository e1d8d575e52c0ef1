// zod's mini build leaves its messages out unless a locale is set: the English
// ones, for the few places that show zod's own message (a bad overrides file's
// shape, overrides.ts) rather than issues.ts's wording. Imported for this effect
// by every module that builds schemas.
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());
