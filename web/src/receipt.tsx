import { useEffect, useRef, useState } from "preact/hooks";
import type { OrderView } from "../gen/mpos/v1/pos_pb";
import { explain, pos } from "./api";
import { Dialog } from "./dialog";
import { newId } from "./ids";
import { QrCode } from "./qr";

/**
 * The receipt as the printer would print it (58 mm paper), with its signed receipt code
 * as a QR code the guest can scan from the screen; or sent to the receipt printer.
 */
export function Receipt({ order, onClose }: { order: OrderView; onClose: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [printed, setPrinted] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  // One id per print of this dialog: a double tap or a retry prints once.
  const printId = useRef(newId());

  useEffect(() => {
    pos
      .getReceipt({ order: order.id, width: 32 })
      .then((r) => {
        setText(r.text);
        setCode(r.code);
      })
      .catch((e) => setError(explain(e)));
  }, [order.id]);

  const print = async () => {
    setBusy(true);
    setError("");
    try {
      const r = await pos.printReceipt({ order: order.id, requestId: printId.current });
      if (r.jobs.length === 0) setError("No printer prints receipts: set one up in the back office.");
      else {
        setPrinted(`Sent to ${r.jobs.map((j) => j.printer).join(", ")}.`);
        // Printed: another tap is another copy.
        printId.current = newId();
      }
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog label={`Receipt for order ${order.number}`} class="receipt" onCancel={onClose}>
      <header>
        <h2>Receipt · {order.number}</h2>
      </header>
      <div class="receipt-body">
        {text === null && !error && <p class="muted">Loading…</p>}
        {text !== null && <pre class="paper">{text}</pre>}
        {code ? (
          <figure class="receipt-code">
            <QrCode text={code} label="Receipt code" />
            <figcaption class="muted">Scan to check this receipt against the ledger.</figcaption>
          </figure>
        ) : (
          text !== null && <p class="muted">The receipt code comes when the order is paid.</p>
        )}
      </div>
      {printed && <p class="ok">{printed}</p>}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <footer>
        <button class="ghost" onClick={onClose}>
          Close
        </button>
        <button class="primary" disabled={busy || text === null} onClick={() => void print()}>
          Print receipt
        </button>
      </footer>
    </Dialog>
  );
}
