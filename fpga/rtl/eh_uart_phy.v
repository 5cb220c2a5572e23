// Serial line for the UART registers (eh_uart_regs.v) on FPGA boards: 8N1, a fixed bit period
// of CLKS_PER_BIT clocks (12 MHz / 115200 -> 104, 0.2 % off), one byte of buffering each way.
// The 16550 divisor the firmware writes is accepted by the registers but not used here.
`default_nettype none
module eh_uart_phy #(
    parameter integer CLKS_PER_BIT = 104
) (
    input  wire       clk,
    input  wire       resetn,
    output reg        txd,
    input  wire       rxd,
    input  wire       tx_valid,
    input  wire [7:0] tx_data,
    output wire       tx_ready,
    output wire       tx_busy,
    output reg        rx_valid,
    output reg  [7:0] rx_data,
    input  wire       rx_ready
);
    // ---- transmitter ----
    reg [9:0]  tx_shift;
    reg [3:0]  tx_bits;
    reg [$clog2(2 * CLKS_PER_BIT)-1:0] tx_cnt;
    assign tx_ready = tx_bits == 0;
    assign tx_busy = tx_bits != 0;
    always @(posedge clk) begin
        if (!resetn) begin
            txd <= 1'b1; tx_bits <= 0; tx_cnt <= 0; tx_shift <= 10'h3ff;
        end else if (tx_bits == 0) begin
            if (tx_valid) begin
                tx_shift <= {1'b1, tx_data, 1'b0};
                tx_bits <= 4'd11;   // start, 8 data, stop, and one idle bit so the stop bit lasts
                tx_cnt <= 0;
            end
        end else if (tx_cnt == 0) begin
            txd <= tx_shift[0];
            tx_shift <= {1'b1, tx_shift[9:1]};
            tx_cnt <= CLKS_PER_BIT - 1;
            tx_bits <= tx_bits - 1;
        end else begin
            tx_cnt <= tx_cnt - 1;
        end
    end
    // the last bit (stop) is counted down before the next byte
    // ---- receiver ----
    reg [1:0]  rx_sync;
    reg [3:0]  rx_bits;
    reg [$clog2(2 * CLKS_PER_BIT)-1:0] rx_cnt;
    reg [7:0]  rx_shift;
    always @(posedge clk) begin
        rx_sync <= {rx_sync[0], rxd};
        if (!resetn) begin
            rx_bits <= 0; rx_valid <= 1'b0; rx_sync <= 2'b11;
        end else begin
            if (rx_valid && rx_ready) rx_valid <= 1'b0;
            if (rx_bits == 0) begin
                if (!rx_sync[1]) begin            // start bit: sample in the middle of each bit
                    rx_bits <= 4'd9;
                    rx_cnt <= CLKS_PER_BIT + CLKS_PER_BIT / 2 - 1;
                end
            end else if (rx_cnt == 0) begin
                if (rx_bits == 1) begin
                    if (rx_sync[1]) begin rx_valid <= 1'b1; rx_data <= rx_shift; end  // good stop bit
                    rx_bits <= 0;
                end else begin
                    rx_shift <= {rx_sync[1], rx_shift[7:1]};
                    rx_bits <= rx_bits - 1;
                    rx_cnt <= CLKS_PER_BIT - 1;
                end
            end else begin
                rx_cnt <= rx_cnt - 1;
            end
        end
    end
endmodule
`default_nettype wire
