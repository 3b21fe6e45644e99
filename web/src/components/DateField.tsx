// The app's one date picker (web-ui.md §1.7: dates read DD.MM.YYYY): antd's DatePicker over a
// plain string value, so forms and filters keep their "YYYY-MM-DD" (or, with `time`,
// "YYYY-MM-DDTHH:mm") and no page falls back to the browser's own date input.

import { DatePicker, type DatePickerProps } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';

export const DATE_FORMAT = 'DD.MM.YYYY';

interface Props extends Omit<DatePickerProps, 'value' | 'onChange' | 'format' | 'showTime' | 'disabledDate' | 'picker'> {
  value?: string | null;
  onChange?: (v: string) => void;
  /** Date and time of day (HH:mm) instead of a date. */
  time?: boolean;
  /** Earliest and latest day that can be picked, as "YYYY-MM-DD". */
  min?: string;
  max?: string;
}

export default function DateField({ value, onChange, time = false, min, max, style, ...rest }: Props) {
  const stored = time ? 'YYYY-MM-DDTHH:mm' : 'YYYY-MM-DD';
  const outside = (d: Dayjs) => Boolean((min && d.isBefore(min, 'day')) || (max && d.isAfter(max, 'day')));
  return (
    <DatePicker
      {...rest}
      format={time ? `${DATE_FORMAT} HH:mm` : DATE_FORMAT}
      showTime={time ? { format: 'HH:mm' } : false}
      value={value ? dayjs(value) : null}
      onChange={(d) => onChange?.(d ? d.format(stored) : '')}
      disabledDate={min || max ? outside : undefined}
      style={{ width: '100%', ...style }}
    />
  );
}
