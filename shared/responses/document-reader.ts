/** Turns the elements saxes reports into a ResponseDocument: the Forms, fields, anomalies kept. */
import { ACRF_FIELDS, acrfForm } from './acrf';
import { describeReceptionError } from './codes';
import type { AnomalyDraft, Field, FormDraft } from './drafts';
import {
  ANOMALY_FIELDS,
  MAX_PATH_FIELDS,
  NOTIFICATION_FIELDS,
  anomalyOf,
  closeReference,
  notificationForm,
} from './notification';
import type { AcrfForm, NotificationForm, ResponseDocument, ResponseParserOptions } from './types';

/** One open element. Frames are reused by depth: a large file opens millions of elements. */
interface Frame {
  /** Local name. */
  name: string;
  /** Path relative to the Form or the AnomalyReport, only as deep as a field can be. */
  rel: string;
  field: Field | undefined;
  text: string;
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

/**
 * The document state of one response: the open elements, the Form and AnomalyReport being
 * read, and what was kept. Elements are matched on local names; unknown ones are skipped.
 */
export class DocumentReader {
  private kind: 'acrf' | 'notification' | 'other' | undefined;
  private root = '';
  private level = 0;
  private readonly frames: Frame[] = [];
  private formCount = 0;
  private readonly forms: (AcrfForm | NotificationForm)[] = [];
  private form: FormDraft | undefined;
  /** True while inside a Form, kept or not. */
  private inForm = false;
  private anomalyDepth = 0;
  private anomaly: AnomalyDraft | undefined;
  /** Anomalies and ErrorIDs kept so far in the document, against maxAnomalies. */
  private kept = 0;

  /**
   * @param options - the resolved limits
   * @param malformed - records a failure of the document and returns it, to be thrown
   */
  constructor(
    private readonly options: ResponseParserOptions,
    private readonly malformed: (message: string) => Error,
  ) {}

  /** Elements open now. */
  get depth(): number {
    return this.level;
  }

  /** Whether the innermost element is a field of interest, whose text is kept. */
  wantsText(): boolean {
    return this.frames[this.level - 1]?.field !== undefined;
  }

  /** Text of the innermost element, kept up to `maxTextChars` when it is a field. */
  readonly onText = (text: string): void => {
    const frame = this.frames[this.level - 1];
    if (frame?.field === undefined) return;
    const room = this.options.maxTextChars - frame.text.length;
    if (room > 0) frame.text += text.length > room ? text.slice(0, room) : text;
  };

  /** An element opens, under the depth limit the caller checked. */
  open(qualifiedName: string): void {
    const name = localName(qualifiedName);
    const depth = this.level;
    const parent = this.frames[depth - 1];
    let frame = this.frames[depth];
    if (frame === undefined) {
      frame = { name: '', rel: '', field: undefined, text: '' };
      this.frames.push(frame);
    }
    frame.name = name;
    frame.field = undefined;
    frame.text = '';
    frame.rel = '';
    this.level = depth + 1;
    if (depth === 0) this.openRoot(name);
    else if (this.kind !== 'other' && depth === 1 && name === 'Form') this.openForm();
    else if (this.inForm && depth >= 2) this.openInForm(frame, parent as Frame, depth);
  }

  /** The innermost element closes (there is one: the caller checked `depth`). */
  close(): void {
    const depth = this.level - 1;
    const frame = this.frames[depth] as Frame;
    this.level = depth;
    if (frame.field !== undefined) this.apply(frame.field, frame.text.trim(), frame.name);
    if (this.anomalyDepth > 0 && depth + 1 === this.anomalyDepth) this.closeAnomaly();
    else if (this.inForm && depth === 1) this.closeForm();
    else if (this.form && depth === 2 && frame.name === 'Reference') closeReference(this.form);
    frame.text = '';
  }

  /** What the response says, or undefined when it had no root element. */
  document(): ResponseDocument | undefined {
    if (this.kind === 'other') return { kind: 'other', root: this.root };
    if (this.kind === undefined) return undefined;
    if (this.kind === 'acrf') {
      return { kind: 'acrf', forms: this.forms as AcrfForm[], formCount: this.formCount };
    }
    return {
      kind: 'notification',
      forms: this.forms as NotificationForm[],
      formCount: this.formCount,
    };
  }

  private openRoot(name: string): void {
    this.root = name;
    this.kind = name === 'ACRF' ? 'acrf' : name === 'NOTIFICATION' ? 'notification' : 'other';
  }

  private openForm(): void {
    this.formCount += 1;
    this.inForm = true;
    this.form =
      this.forms.length < this.options.maxForms
        ? { errors: [], errorCount: 0, anomalies: [], anomalyCount: 0 }
        : undefined;
  }

  private openInForm(frame: Frame, parent: Frame, depth: number): void {
    const form = this.form;
    if (this.anomalyDepth > 0) {
      // Inside an AnomalyReport: its children, and the children of AnomalyLocation and Path.
      if (this.anomaly === undefined || depth > this.anomalyDepth + 1) return;
      const rel = depth === this.anomalyDepth ? frame.name : `${parent.rel}/${frame.name}`;
      frame.rel = rel;
      frame.field =
        depth === this.anomalyDepth + 1 && parent.rel === 'Path'
          ? 'pathField'
          : ANOMALY_FIELDS.get(rel);
      return;
    }
    if (this.kind === 'notification' && frame.name === 'AnomalyReport') {
      if (form) form.anomalyCount += 1;
      this.anomalyDepth = depth + 1;
      if (form && this.kept < this.options.maxAnomalies) {
        this.kept += 1;
        this.anomaly = { path: [] };
      }
      return;
    }
    if (form === undefined || depth > 3) return;
    frame.rel = depth === 2 ? frame.name : `${parent.rel}/${frame.name}`;
    const field = (this.kind === 'acrf' ? ACRF_FIELDS : NOTIFICATION_FIELDS).get(frame.rel);
    if (field === 'errorId') {
      form.errorCount += 1;
      if (this.kept >= this.options.maxAnomalies) return;
      this.kept += 1;
    }
    frame.field = field;
  }

  private apply(field: Field, text: string, name: string): void {
    const form = this.form;
    const anomaly = this.anomaly;
    if (field === 'errorId') {
      form?.errors.push(describeReceptionError(text));
      return;
    }
    if (field === 'pathField' || field === 'path') {
      // A Path's own text (seen in no sample) is kept as a field named Path.
      if (anomaly && anomaly.path.length < MAX_PATH_FIELDS && (field === 'pathField' || text)) {
        anomaly.path.push({ name, value: text });
      }
      return;
    }
    if (text === '') return; // an empty element says no more than a missing one
    switch (field) {
      case 'anomalyErrorId':
      case 'tagName':
      case 'value':
      case 'anomalyClass':
      case 'anomalyLabel':
      case 'systemCorrection':
      case 'lineNbr':
      case 'columnNbr':
      case 'location':
        if (anomaly) {
          const key = field === 'anomalyErrorId' ? 'errorId' : field;
          anomaly[key] ??= text;
        }
        return;
      default:
        if (form) form[field] ??= text;
    }
  }

  private closeAnomaly(): void {
    this.anomalyDepth = 0;
    const draft = this.anomaly;
    this.anomaly = undefined;
    if (draft === undefined || this.form === undefined) return;
    this.form.anomalies.push(anomalyOf(draft));
  }

  private closeForm(): void {
    this.inForm = false;
    const draft = this.form;
    this.form = undefined;
    if (draft === undefined) return;
    if (this.kind === undefined) throw this.malformed('the response has no root element');
    this.forms.push(this.kind === 'acrf' ? acrfForm(draft) : notificationForm(draft));
  }
}
