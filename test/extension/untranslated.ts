// The extension's strings as written (English), for tests that compare them: a Translator that
// translates nothing and chooses the plural form by n as English does.
import type { Translator } from "../../extension/src/model/i18n.js";

export const untranslated: Translator = {
  gettext: (str) => str,
  ngettext: (str, strPlural, n) => (n === 1 ? str : strPlural),
};
