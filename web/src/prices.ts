import { Channel } from "../gen/mpos/v1/events_pb";
import type { MenuItemView } from "../gen/mpos/v1/pos_pb";

/** The counter channel's price of an item (its base price unless the menu sets one). */
export function counterPrice(view: MenuItemView): bigint {
  const item = view.item;
  if (!item) return 0n;
  return item.channelPrices.find((p) => p.channel === Channel.COUNTER)?.price ?? item.price;
}
