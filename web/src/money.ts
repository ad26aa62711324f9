// Money is integers: an amount in minor units (bigint) with its ISO 4217 currency. The
// app never turns an amount into a float: it formats the exact decimal string.

const formats = new Map<string, Intl.NumberFormat>();

function format(currency: string, locale?: string): Intl.NumberFormat {
  const key = `${locale ?? ""}/${currency}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: "currency", currency });
    formats.set(key, f);
  }
  return f;
}

/** Digits after the decimal point in `currency` (EUR 2, JPY 0, KWD 3). */
export function exponent(currency: string): number {
  return format(currency, "en").resolvedOptions().maximumFractionDigits ?? 2;
}

/** The exact decimal text of `minor` units, "-12.05" for -1205 EUR. */
export function decimal(minor: bigint, currency: string): string {
  const exp = exponent(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exp + 1, "0");
  const whole = digits.slice(0, digits.length - exp);
  const fraction = digits.slice(digits.length - exp);
  return `${negative ? "-" : ""}${whole}${exp > 0 ? `.${fraction}` : ""}`;
}

/** `minor` units shown as people read money where the browser is: "€12.05". */
export function formatMoney(minor: bigint, currency: string, locale?: string): string {
  return format(currency, locale).format(decimal(minor, currency) as Intl.StringNumericLiteral);
}

/**
 * An amount typed by a person ("12", "12.5", "12,50") in minor units; null when it is
 * not an amount of `currency` (letters, more decimals than the currency has).
 */
export function parseMoney(text: string, currency: string): bigint | null {
  const exp = exponent(currency);
  const m = /^\s*(\d{1,12})(?:[.,](\d*))?\s*$/.exec(text);
  if (!m) return null;
  const fraction = m[2] ?? "";
  if (fraction.length > exp) return null;
  return BigInt(m[1] + fraction.padEnd(exp, "0"));
}
