// The frame every dialog shares: a scrim that a tap outside closes, and a dialog box
// (a form when it submits) named for screen readers and tests.

import type { ComponentChildren } from "preact";

export function Dialog({
  label,
  class: extra,
  onCancel,
  onSubmit,
  children,
}: {
  label: string;
  class?: string;
  onCancel: () => void;
  /** Makes the box a form: Enter in a field submits. */
  onSubmit?: () => void;
  children: ComponentChildren;
}) {
  const cls = extra ? `dialog ${extra}` : "dialog";
  return (
    <div class="scrim" onClick={(e) => e.target === e.currentTarget && onCancel()}>
      {onSubmit ? (
        <form
          class={cls}
          role="dialog"
          aria-label={label}
          onSubmit={(e) => {
            e.preventDefault();
            onSubmit();
          }}
        >
          {children}
        </form>
      ) : (
        <div class={cls} role="dialog" aria-label={label}>
          {children}
        </div>
      )}
    </div>
  );
}

/** A dialog that edits one entry: its fields, the node's refusal if any, Cancel and Save. */
export function Editor({
  label,
  heading = label,
  error,
  busy,
  ok,
  onSave,
  onCancel,
  children,
}: {
  label: string;
  heading?: string;
  error: string;
  busy: boolean;
  ok: boolean;
  onSave: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  return (
    <Dialog label={label} class="editor" onCancel={onCancel} onSubmit={() => ok && onSave()}>
      <header>
        <h2>{heading}</h2>
      </header>
      {children}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <footer>
        <button type="button" class="ghost" onClick={onCancel}>
          Cancel
        </button>
        <button class="primary" disabled={busy || !ok}>
          Save
        </button>
      </footer>
    </Dialog>
  );
}
