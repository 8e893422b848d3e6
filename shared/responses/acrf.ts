/** The ACRF (acknowledgement of receipt) Form: the fields read and the form built from them. */
import type { Field, FormDraft } from './drafts';
import { answeredKey, defined, integer } from './drafts';
import type { AcrfForm } from './types';

// Fields by path relative to the Form (local names). Only these are read; anything else in a
// Form is skipped.
export const ACRF_FIELDS: ReadonlyMap<string, Field> = new Map<string, Field>([
  ['Identification', 'identification'],
  ['TypeForm', 'typeForm'],
  ['FileReference/FileName', 'fileName'],
  ['FileReference/ReferenceNbr', 'fileTicket'],
  ['ReceptionResult/ResultCode', 'resultCode'],
  ['ReceptionResult/ErrorID', 'errorId'],
]);

/** The ACRF Form a closed draft holds. */
export function acrfForm(draft: FormDraft): AcrfForm {
  const resultCode = integer(draft.resultCode);
  return {
    identification: draft.identification,
    typeForm: draft.typeForm,
    ...defined({
      fileName: draft.fileName,
      answered: answeredKey(draft.fileName),
      ticket: draft.fileTicket,
    }),
    resultCode,
    accepted: resultCode === 1,
    errors: draft.errors,
    errorCount: draft.errorCount,
  };
}
